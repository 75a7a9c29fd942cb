import Foundation
import Manifest
import Synchronization

/// One membership change of one group, made while the fixture is under
/// test (a nemesis's `grow` or `shrink`): the group one instance larger or
/// smaller than the state records, and nothing else.
public struct GroupChange: Sendable, Hashable, Codable {
  public enum Kind: String, Sendable, Hashable, Codable {
    case grow, shrink
  }

  public var kind: Kind
  public var group: String
  /// The group's recorded instances before and after.
  public var from: Int
  public var to: Int
  /// The instance that joined (grow) or left (shrink); nil when skipped.
  public var instance: String?
  /// How the change reached the cluster's view; nil when skipped.
  public var outcome: MembershipOutcome?
  /// Why nothing was done: the group stands at its bound.
  public var skipped: String?

  /// For people: `grow etcd: i004 joined (committed), 3 → 4`.
  public var summary: String {
    if let skipped { return "\(kind.rawValue) \(group): skipped, \(skipped)" }
    let verb = kind == .grow ? "joined" : "left"
    return "\(kind.rawValue) \(group): \(instance ?? "?") \(verb) (\(outcome?.rawValue ?? "?")), \(from) → \(to)"
  }
}

extension ApplyEngine {
  /// Grows or shrinks `group` by one instance from what the state records,
  /// as an apply of `manifest` with that count would, limited to that one
  /// change: the `join` and `create` of the new instance (the lowest free
  /// name), or the `leave` and `delete` of the highest. Every other step
  /// such an apply would plan (the `start` of an instance a fault stopped,
  /// the files of members that stay) is left out, and no fresh plan widens
  /// it: a failed step fails the change, and the next change or `apply`
  /// plans it again (see docs/membership.md).
  ///
  /// `bound`: the most instances a grow makes, the fewest a shrink leaves;
  /// at it, nothing is done (``GroupChange/skipped``). Throws when the
  /// change fails (its `join` did not commit, its instance did not start):
  /// what committed is recorded, as by any apply.
  public func changeGroup(_ manifest: Manifest, group: String, kind: GroupChange.Kind, bound: Int) async throws -> GroupChange {
    guard let index = manifest.groups.firstIndex(where: { $0.name == group }), manifest.groups[index].membership != nil else {
      throw OrchestratorError(.membership, "\(kind.rawValue) \(group): \(manifest.path) has no group '\(group)' with 'membership'")
    }
    let state = try FixtureState.require(root: manifest.root)
    let recorded = state.instances.filter { $0.group == group }.map(\.name)
    var change = GroupChange(kind: kind, group: group, from: recorded.count, to: recorded.count)
    if kind == .grow ? recorded.count >= bound : recorded.count <= bound {
      change.skipped = "it has \(recorded.count) instance(s), its \(kind == .grow ? "max" : "min")"
      return change
    }
    var m = manifest
    m.groups[index].count = recorded.count + (kind == .grow ? 1 : -1)
    var planned = try await planner.plan(m)
    let wanted = planned.desired.instances.filter { $0.group == group }.map(\.name)
    let names = kind == .grow ? wanted.filter { !recorded.contains($0) } : recorded.filter { !wanted.contains($0) }
    guard names.count == 1, let name = names.first else {
      throw OrchestratorError(.membership, "\(kind.rawValue) \(group): the plan changes \(names.count) instance(s) of the group, not one")
    }
    let mine: Set<Step.Target> = [.instance(name), .member(name)]
    planned.plan.steps = planned.plan.steps.filter { mine.contains($0.target) }.map { step in
      var s = step
      s.dependsOn = s.dependsOn.filter(mine.contains)
      return s
    }
    guard planned.plan.steps.contains(where: { $0.target == .member(name) }) else {
      throw OrchestratorError(.membership, "\(kind.rawValue) \(group): group '\(group)' has no member left to tell of \(name)")
    }
    var options = ApplyOptions()
    options.repair = false
    options.replanWhenStale = false
    let outcomes = MemberOutcomes()
    let result = try await apply(planned, options: options, observer: outcomes)
    if !result.failures.isEmpty {
      let why = result.failures.map { "\($0.target): \($0.error)" }.joined(separator: "; ")
      throw OrchestratorError(.membership, "\(kind.rawValue) \(group) (\(name)): \(why)")
    }
    change.instance = name
    change.outcome = outcomes.outcome
    change.to = result.state.instances.filter { $0.group == group }.count
    return change
  }
}

/// The outcome of the one `join` or `leave` a group change runs.
private final class MemberOutcomes: ApplyObserver {
  private let seen = Mutex<MembershipOutcome?>(nil)
  var outcome: MembershipOutcome? { seen.withLock { $0 } }
  func started(_ step: Step) {}
  func finished(_ step: Step, after: Duration, error: (any Error)?) {}
  func memberChanged(_ step: Step, outcome: MembershipOutcome) { seen.withLock { $0 = outcome } }
}

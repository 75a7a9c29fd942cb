import Foundation
import Manifest

extension FixtureController {
  /// What `reset` did.
  public struct ResetReport: Sendable {
    /// The faults lifted (or narrowed to the instances left out).
    public var healed: HealReport
    /// A nemesis was running (or had died with faults in force) and was stopped.
    public var stoppedNemesis = false
    /// Instances whose `var` folder was emptied (`--data`).
    public var emptied: [String] = []
    /// The steps that brought instances back (start, unpause, files
    /// rewritten, a container made again), as an apply runs them.
    public var applied: ApplyResult?
  }

  /// Brings a running fixture back to the state its last apply made, without
  /// a destroy: a running nemesis stopped, every fault lifted, and through the plan of the manifest it
  /// was applied from, every stopped or killed instance started, every
  /// paused one thawed, every rendered file edited by hand written again
  /// (then its `on_change`), every container removed outside cthulhu made
  /// again with its name and address. With `data`, the instances are first
  /// stopped and their `var` folders emptied, so they start as new.
  ///
  /// Only the applied state is restored: when the manifest no longer
  /// resolves to what was applied (an instance added, removed, or with
  /// another spec or files), it refuses, and nothing is changed. `names`
  /// limits it to those instances (every one when nil). A retry after a
  /// failed step plans the whole fixture (see ``apply(_:options:observer:)``).
  public func reset(
    _ manifest: Manifest, names: [String]? = nil, data: Bool = false, options: ApplyOptions = .init(),
    observer: (any ApplyObserver)? = nil
  ) async throws -> ResetReport {
    let root = manifest.root
    var planned = try await plan(manifest)
    try Self.requireApplied(planned)
    let wanted = names.map(Set.init)
    // A schedule still running would break the fixture again: it stops first (and heals what it did).
    var stoppedNemesis = false
    if let n = try Self.nemesisStatus(root: root), n.running || n.died {
      _ = try await stopNemesis(root: root)
      stoppedNemesis = true
    }
    let healed = try await heal(root: root, names: names)
    var report = ResetReport(healed: healed, stoppedNemesis: stoppedNemesis)
    if data {
      let targets = planned.desired.instances.filter { wanted?.contains($0.name) ?? true }
      // A container removed outside cthulhu is made again below, with an empty var.
      let live = Set(planned.observed.containers.compactMap { $0.labels[Labels.instance] })
      let running = targets.map(\.name).filter(live.contains)
      if !running.isEmpty { _ = try await lifecycle(.stop, root: root, names: running) }
      let mounts = manifest.mountNamesByGroup
      let writer = FixtureWriter(paths: FixturePaths(root: root))
      for d in targets {
        let groupMounts = mounts[d.group] ?? []
        guard groupMounts.contains("var") else { continue }
        let folder = FixturePaths(root: root).mountFolder(ip: d.ip, mount: "var")
        for entry in try SafeTree.entries(ofFolder: folder) ?? [] { try SafeTree.remove(entry, inFolder: folder) }
        // As a new instance has it: the empty log, the rendered files.
        try writer.prepare(d, mounts: groupMounts)
        report.emptied.append(d.name)
      }
      planned = try await plan(manifest)
    }
    if let wanted { planned.plan.steps = Self.steps(of: planned.plan.steps, for: wanted) }
    EventLog(root: root).append(
      Event(
        actor: "reset[\(getpid())]", kind: .reset, action: data ? "reset --data" : "reset", targets: names ?? ["all"],
        instances: names ?? planned.desired.instances.map(\.name),
        detail: "healed \(healed.lifted.count + healed.narrowed.count), emptied \(report.emptied.count), \(planned.plan.steps.count) step(s)"))
    if planned.plan.hasChanges {
      var options = options
      options.replanWhenStale = true
      report.applied = try await apply(planned, options: options, observer: observer)
    }
    return report
  }

  /// Refuses a reset when the manifest resolves to something else than what
  /// was applied: reset goes back, `apply` goes forward.
  static func requireApplied(_ planned: PlannedChange) throws {
    guard let state = planned.observed.state else {
      throw OrchestratorError(.noFixture, "\(planned.manifest.root) holds no applied fixture: run `cthulhu apply` first")
    }
    var changed: [String] = []
    var differs: [String] = []
    let records = Dictionary(state.instances.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for d in planned.desired.instances {
      guard let r = records[d.name] else {
        changed.append("\(d.name) is new")
        continue
      }
      if r.specHash != d.specHash { differs.append("\(d.name)'s container spec differs") }
      if r.filesHash != d.filesHash { differs.append("\(d.name)'s rendered files differ") }
    }
    let desiredNames = Set(planned.desired.instances.map(\.name))
    for r in state.instances where !desiredNames.contains(r.name) { changed.append("\(r.name) is no longer in it") }
    if let subnet = state.subnet, subnet != planned.desired.network.subnet { changed.append("the subnet differs") }
    changed += differs
    guard changed.isEmpty else {
      throw OrchestratorError(
        .stalePlan,
        "\(planned.manifest.path) changed since it was applied (\(changed.prefix(3).joined(separator: "; "))\(changed.count > 3 ? "; …" : "")); reset only goes back to the applied state: run `cthulhu apply` to go forward"
      )
    }
  }

  /// The steps of the instances in `names`, and the steps they depend on
  /// (an image to pull, the network made again), without dependencies on
  /// what is left out.
  static func steps(of steps: [Step], for names: Set<String>) -> [Step] {
    var keep = Set(steps.filter { $0.target.instance.map(names.contains) ?? false }.map(\.target))
    var grew = true
    while grew {
      grew = false
      for s in steps where keep.contains(s.target) {
        for d in s.dependsOn where !keep.contains(d) && d.instance == nil {
          keep.insert(d)
          grew = true
        }
      }
    }
    return steps.filter { keep.contains($0.target) }.map { s in
      var s = s
      s.dependsOn = s.dependsOn.filter(keep.contains)
      return s
    }
  }
}

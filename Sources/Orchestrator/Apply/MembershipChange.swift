import Foundation
import Manifest

/// How a membership change ended.
public enum MembershipOutcome: String, Sendable, Hashable, Codable {
  /// The command succeeded and the view shows the change.
  case committed
  /// The view showed the change before any command ran (made earlier).
  case already
  /// A command failed or timed out, and the view shows the change all the same.
  case resolved
}

/// One `join` or `leave` step: the group's command run on this machine
/// against a live member, and the change resolved by reading the view,
/// never left half-done silently.
///
/// Each attempt first reads the view: a change it shows already (made by
/// an earlier apply, or by an attempt whose command failed or timed out
/// after the cluster committed it) is done. Otherwise the command runs
/// through the next member of the step's `members`; when it succeeds, the
/// view is read until it shows the change (within `timeout`). A change
/// still not in the view after `attempts` attempts fails the step with an
/// error naming the instance; its instance's `create` or `delete` does not
/// run, and the next apply plans the change again. Every attempt's
/// outcome is a `membership` event.
struct MembershipChange {
  let spec: Membership
  let step: Step
  /// The instance that joins or leaves.
  let instance: ClusterMember
  let renderer: CommandRenderer
  let log: EventLog

  typealias Outcome = MembershipOutcome

  private var group: String { step.group ?? "" }
  private var joining: Bool { step.action == .join }
  private var members: [ClusterMember] { step.members ?? [] }

  func run() async throws -> Outcome {
    guard !members.isEmpty else {
      throw OrchestratorError(.membership, "\(step.action.rawValue) of instance \(instance.name): no live member of group '\(group)' to go through")
    }
    var last = ""
    for attempt in 1...spec.attempts {
      if let seen = await view(), shows(seen) {
        let outcome: Outcome = attempt == 1 ? .already : .resolved
        note("\(outcome.rawValue): the view shows it" + (attempt == 1 ? "" : " after attempt \(attempt - 1) (\(last))"))
        return outcome
      }
      let through = members[(attempt - 1) % members.count]
      let command = joining ? spec.join : spec.leave
      let ran = await runCommand(command, through: through)
      if let failure = ran.failure {
        last = "through \(through.name): \(failure)"
      } else if await confirmed() {
        note("committed through \(through.name)")
        return .committed
      } else {
        last = "through \(through.name): the command succeeded, and the view did not show it within \(spec.timeout)"
      }
      note("pending after attempt \(attempt) of \(spec.attempts): \(last)")
      // A cluster that refuses a change now (a leader being elected, etcd's
      // "unhealthy cluster" for 5 s after a member came or went) may take
      // it a moment later.
      try await Task.sleep(for: Self.pause(after: attempt, timeout: spec.timeout))
    }
    if let seen = await view(), shows(seen) {
      note("resolved: the view shows it after \(spec.attempts) attempts")
      return .resolved
    }
    throw OrchestratorError(
      .membership,
      "\(step.action.rawValue) of instance \(instance.name) (group '\(group)') did not commit after \(spec.attempts) attempt(s); last: \(last)")
  }

  /// The wait after a pending attempt: 1 s, then twice the last, at most `timeout`.
  static func pause(after attempt: Int, timeout: Duration) -> Duration {
    min(.seconds(1 << min(attempt - 1, 10)), timeout)
  }

  /// Whether the view shows the change made: the instance in it for a join, gone for a leave.
  func shows(_ seen: Set<String>) -> Bool {
    let present = seen.contains(instance.name) || seen.contains(instance.ip.description)
    return present == joining
  }

  /// Reads the view until it shows the change or `timeout` has passed.
  private func confirmed() async -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + spec.timeout
    while true {
      if let seen = await view(), shows(seen) { return true }
      guard clock.now < deadline else { return false }
      try? await Task.sleep(for: .milliseconds(200))
    }
  }

  /// The members as the first member that answers sees them; nil when none answers.
  func view() async -> Set<String>? {
    for m in members {
      let ran = await runCommand(spec.view, through: m)
      if ran.failure == nil { return Self.parseView(ran.stdout) }
    }
    return nil
  }

  /// `view`'s output: a JSON list of strings, or one entry a line (blank
  /// lines and surrounding spaces dropped); each entry a name or an address.
  static func parseView(_ text: String) -> Set<String> {
    let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if t.hasPrefix("["), let list = try? JSONDecoder().decode([String].self, from: Data(t.utf8)) {
      return Set(list.map { $0.trimmingCharacters(in: .whitespaces) })
    }
    return Set(t.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
  }

  struct Ran {
    var stdout = ""
    /// Why it did not succeed (nil: exit status 0 in time).
    var failure: String?
  }

  private func runCommand(_ argv: [String], through member: ClusterMember) async -> Ran {
    let rendered: [String]
    do {
      rendered = try renderer.render(argv, instance: instance, group: group, member: member, members: members)
    } catch {
      return Ran(failure: "\(error)")
    }
    guard let exe = rendered.first.flatMap(HostCommand.locate) else {
      return Ran(failure: "\(rendered.first ?? "") is not an executable on this machine")
    }
    let extra = renderer.environment(instance: instance, group: group, member: member)
    let set = Set(extra.map { $0.prefix { $0 != "=" } })
    let env = Spawner.inheritedEnvironment.filter { !set.contains($0.prefix { $0 != "=" }) } + extra
    do {
      let r = try await Spawner.run([exe] + rendered.dropFirst(), env: env, cwd: renderer.root, timeout: spec.timeout)
      let out = String(decoding: r.stdout, as: UTF8.self)
      if r.timedOut { return Ran(stdout: out, failure: "`\(rendered.joined(separator: " "))` did not finish within \(spec.timeout)") }
      guard r.status == 0 else {
        // Its last line says why (etcdctl logs its retries before it).
        let words = String(decoding: r.stderr, as: UTF8.self).split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        return Ran(stdout: out, failure: "`\(rendered.joined(separator: " "))` exited \(r.status)" + (words.isEmpty ? "" : ": \(words.prefix(300))"))
      }
      return Ran(stdout: out)
    } catch {
      return Ran(failure: "\(error)")
    }
  }

  private func note(_ detail: String) {
    log.append(
      Event(
        actor: "apply[\(getpid())]", kind: .membership, action: step.action.rawValue, targets: [step.target.description],
        instances: [instance.name], detail: detail))
  }
}

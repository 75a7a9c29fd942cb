import Foundation
import Manifest

extension Executor {
  /// A `join` or `leave`: made and resolved by ``MembershipChange``.
  func performMember(_ step: Step, name: String) async throws {
    guard let group = step.group, let spec = desired.membership[group] else {
      throw OrchestratorError(.step, "the plan changes the membership of \(name), and its group '\(step.group ?? "")' has no 'membership'")
    }
    var ip = desiredByName[name]?.ip
    if ip == nil { ip = await store.instance(named: name)?.ip }
    if ip == nil { ip = await store.state.unmadeMembers?.first { $0.name == name }?.ip }
    guard let ip else { throw OrchestratorError(.step, "the plan changes the membership of \(name), which is neither wanted nor recorded") }
    let renderer = CommandRenderer(fixture: desired.fixture, root: desired.root, vars: desired.vars)
    let change = MembershipChange(
      spec: spec, step: step, instance: ClusterMember(name: name, ip: ip), renderer: renderer, log: EventLog(root: desired.root))
    let outcome = try await change.run()
    observer?.memberChanged(step, outcome: outcome)
    // A member with no instance yet is remembered until its instance is
    // recorded, or until it leaves again.
    let unmade = UnmadeMember(name: name, group: group, ip: ip)
    if step.action == .join, await store.instance(named: name) == nil {
      try await store.update { s in if !(s.unmadeMembers ?? []).contains(unmade) { s.unmadeMembers = (s.unmadeMembers ?? []) + [unmade] } }
    } else if step.action == .leave {
      try await forgetUnmade(name)
    }
  }

  /// `name` is no longer a member without an instance.
  func forgetUnmade(_ name: String) async throws {
    guard await store.state.unmadeMembers?.contains(where: { $0.name == name }) == true else { return }
    try await store.update { s in
      s.unmadeMembers?.removeAll { $0.name == name }
      if s.unmadeMembers?.isEmpty == true { s.unmadeMembers = nil }
    }
  }
}

import Foundation
import Manifest

extension Planner {
  /// The membership changes of the groups with `membership:`, one at a
  /// time per group, as Raft allows: the instances scaled away leave,
  /// highest first, each `leave` before its `delete`; then the new
  /// instances of a cluster that exists join, lowest first, each `join`
  /// before its `create`. Each change waits for the instance step of the
  /// change before it, and the first for the steps of the members that
  /// stay. A new group (no instance recorded) starts its cluster with
  /// every instance `new`: no change to make. A group scaled to 0 has no
  /// member left to tell, so its instances are only deleted. A member that
  /// joined and whose instance was never made (`unmade`) leaves when its
  /// group no longer wants it.
  ///
  /// Adds each change's target to the `dependsOn` of its instance's step.
  static func membershipSteps(
    desired: DesiredFixture, records: [String: InstanceRecord], unmade: [UnmadeMember] = [], deletes: inout [String: Step],
    instanceSteps: inout [String: Step]
  ) -> [Step] {
    var out: [Step] = []
    let ordinal = { (name: String) in InstanceName.ordinal(name) ?? 0 }
    for group in desired.membership.keys.sorted() {
      let wanted = desired.instances.filter { $0.group == group }
      guard !wanted.isEmpty else { continue }
      var members = records.values.filter { $0.group == group }.sorted { ordinal($0.name) < ordinal($1.name) }
        .map { ClusterMember(name: $0.name, ip: $0.ip) }
      let wantedNames = Set(wanted.map(\.name))
      // The members that stay settle first (a replace, an update).
      var after = members.filter { wantedNames.contains($0.name) && instanceSteps[$0.name] != nil }.map { Step.Target.instance($0.name) }
      // Members that joined and whose instance was never made, no longer
      // wanted, leave first (they have nothing to delete).
      let orphans = unmade.filter { $0.group == group && !wantedNames.contains($0.name) && records[$0.name] == nil }
        .sorted { ordinal($0.name) > ordinal($1.name) }
      for o in orphans {
        out.append(
          Step(
            target: .member(o.name), action: .leave,
            reasons: ["\(o.name) joined the cluster of group '\(group)', and its instance was never made: it leaves again"],
            dependsOn: after, group: group, members: members))
        after = [.member(o.name)]
      }
      let leaving = deletes.keys.filter { records[$0]?.group == group }.sorted { ordinal($0) > ordinal($1) }
      for name in leaving {
        let through = members.filter { $0.name != name }
        guard !through.isEmpty else { continue }
        out.append(
          Step(
            target: .member(name), action: .leave,
            reasons: ["group '\(group)' scaled down to \(wanted.count): \(name) leaves its cluster before it is removed"],
            dependsOn: after, group: group, members: through))
        deletes[name]?.dependsOn.append(.member(name))
        members = through
        after = [.instance(name)]
      }
      for d in wanted where d.membership?.clusterState == .existing && instanceSteps[d.name]?.action == .create {
        guard !members.isEmpty else { continue }
        out.append(
          Step(
            target: .member(d.name), action: .join,
            reasons: ["group '\(group)' grows to \(wanted.count): \(d.name) joins its cluster before it starts"],
            dependsOn: after, group: group, members: members))
        instanceSteps[d.name]?.dependsOn.append(.member(d.name))
        members.append(ClusterMember(name: d.name, ip: d.ip))
        after = [.instance(d.name)]
      }
    }
    return out
  }

  /// Where a step goes in the plan: by instance, a membership change just
  /// before its instance's step, a delete before a create; a shrinking
  /// cluster's leaves and deletes first, highest first, in the order they run.
  static func orderKey(_ step: Step, shrinking: Set<String>) -> (Int, Int) {
    let n = InstanceName.ordinal(step.name) ?? 0
    let phase =
      switch step.action {
      case .join, .leave: 0
      case .delete: 1
      default: 2
      }
    return (shrinking.contains(step.name) ? -n : n, phase)
  }
}

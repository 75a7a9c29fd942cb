import Foundation
import Manifest
import Stencil

/// Renders a `membership:` command for one change: each argument is a
/// Stencil template (as a group's `templates:`), so an argument may say
/// `http://{{ member.ip }}:2379` or `{{ instance.name }}`.
///
/// Context: `instance` {name, ip, group} (the instance that joins or
/// leaves), `member` {name, ip} (the live member the command goes
/// through), `members` (the current members, the instance not among them),
/// `cluster_state` (`existing`: a change is made to a cluster that runs),
/// `fixture` {name, root}, `vars`.
struct CommandRenderer {
  let fixture: String
  let root: String
  let vars: [String: Value]

  func render(_ argv: [String], instance: ClusterMember, group: String, member: ClusterMember, members: [ClusterMember]) throws -> [String] {
    let context: [String: Any] = [
      "instance": ["name": instance.name, "ip": instance.ip.description, "group": group],
      "member": ["name": member.name, "ip": member.ip.description],
      "members": members.map { ["name": $0.name, "ip": $0.ip.description] },
      "cluster_state": MemberContext.ClusterState.existing.rawValue,
      "fixture": ["name": fixture, "root": root],
      "vars": vars.mapValues(TemplateRenderer.any),
    ]
    let environment = Environment()
    return try argv.map { arg in
      do {
        return try environment.renderTemplate(string: arg, context: context)
      } catch let e as TemplateSyntaxError {
        throw OrchestratorError.template("membership command of group '\(group)': \(e.reason) in '\(arg)' (for instance \(instance.name))")
      }
    }
  }

  /// What the command's process gets besides cthulhu's own environment.
  func environment(instance: ClusterMember, group: String, member: ClusterMember) -> [String] {
    [
      "CTHULHU_FIXTURE=\(fixture)", "CTHULHU_ROOT=\(root)", "CTHULHU_GROUP=\(group)",
      "CTHULHU_NAME=\(instance.name)", "CTHULHU_IP=\(instance.ip)",
      "CTHULHU_MEMBER_NAME=\(member.name)", "CTHULHU_MEMBER_IP=\(member.ip)",
    ]
  }
}

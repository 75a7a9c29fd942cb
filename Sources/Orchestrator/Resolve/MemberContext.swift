import Foundation
import Manifest

/// One member of a cluster as cthulhu names it: an instance and its address.
public struct ClusterMember: Codable, Sendable, Hashable {
  public var name: String
  public var ip: IPv4Address
  public init(name: String, ip: IPv4Address) {
    self.name = name
    self.ip = ip
  }
}

/// How an instance of a group with `membership:` came into its cluster,
/// fixed when it was first made and recorded with it, so its templates
/// render the same in every later apply: `new` with the whole first
/// cluster (`initial-cluster-state: new`), or `existing` with the members
/// at the time it joined and itself (`initial-cluster-state: existing`).
public struct MemberContext: Codable, Sendable, Hashable {
  public enum ClusterState: String, Codable, Sendable, Hashable {
    case new, existing
  }

  public var clusterState: ClusterState
  /// The members at the time it joined (or the first cluster), itself
  /// included, in name order.
  public var members: [ClusterMember]

  public init(clusterState: ClusterState, members: [ClusterMember]) {
    self.clusterState = clusterState
    self.members = members
  }

  /// Each instance's context, for the groups with `membership:`.
  ///
  /// A group none of whose instances `previous` records starts a cluster:
  /// every instance is `new`, with all of them. Otherwise a recorded
  /// instance keeps its recorded context, and each new one joins, in name
  /// order, the recorded instances that stay and the ones that joined
  /// before it. Members are named as recorded, with the address each has now.
  static func contexts(manifest: Manifest, slots: [Resolver.Slot], previous: FixtureState?) -> [String: MemberContext] {
    var out: [String: MemberContext] = [:]
    let now = Dictionary(slots.map { ($0.name, $0.address) }, uniquingKeysWith: { a, _ in a })
    let readdressed = { (m: ClusterMember) in ClusterMember(name: m.name, ip: now[m.name] ?? m.ip) }
    for g in manifest.groups where g.membership != nil {
      let mine = slots.filter { $0.group == g.name }
      let recorded = mine.filter { previous?.instance(named: $0.name)?.group == g.name }
      guard !recorded.isEmpty else {
        let all = mine.map { ClusterMember(name: $0.name, ip: $0.address) }
        for s in mine { out[s.name] = MemberContext(clusterState: .new, members: all) }
        continue
      }
      var current = recorded.map { ClusterMember(name: $0.name, ip: $0.address) }
      for s in mine {
        if let r = previous?.instance(named: s.name), r.group == g.name {
          // (An instance recorded before its group had `membership:` was in the first cluster.)
          let kept = r.membership ?? MemberContext(clusterState: .new, members: current)
          out[s.name] = MemberContext(clusterState: kept.clusterState, members: kept.members.map(readdressed))
        } else {
          current.append(ClusterMember(name: s.name, ip: s.address))
          out[s.name] = MemberContext(clusterState: .existing, members: current)
        }
      }
    }
    return out
  }
}

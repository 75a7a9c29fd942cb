import Foundation
import Manifest

/// What `cthulhu graph` draws: the groups and their instances (name,
/// address, node), the fixture's network, `depends_on` between groups, and
/// for a running fixture the faults in force; for `plan --graph`, what the
/// plan does to each instance. A value; ``TopologyRenderer`` writes it as
/// mermaid or dot.
public struct Topology: Sendable, Hashable {
  public enum Change: String, Sendable, Hashable {
    case added, changed, replaced, removed
  }

  public struct Instance: Sendable, Hashable {
    public var name: String
    public var group: String
    public var ip: String
    /// The swarm node it runs on, where there are several.
    public var node: String?
    /// running, exited, paused… for a running fixture (nil as planned).
    public var state: String?
    /// What a plan does to it (`plan --graph`).
    public var change: Change?
  }

  public struct Group: Sendable, Hashable {
    public var name: String
    public var dependsOn: [String]
  }

  public var fixture: String
  public var network: String
  public var subnet: String
  public var groups: [Group]
  public var instances: [Instance]
  public var faults: [Fault] = []

  /// The topology a manifest would make, as planned: no engine, no fixture.
  public static func planned(_ manifest: Manifest) throws -> Topology {
    let desired = try Resolver(manifest: manifest, previous: nil).resolve()
    return make(manifest: manifest, desired: desired, state: nil)
  }

  /// A plan's topology: the instances it leaves or makes, each marked with
  /// what the plan does to it, and the ones it removes.
  public static func planned(_ change: FixtureController.PlannedChange) -> Topology {
    var t = make(manifest: change.manifest, desired: change.desired, state: change.observed.state)
    var marks: [String: Change] = [:]
    for step in change.plan.steps {
      guard let name = step.target.instance else { continue }
      switch step.action {
      case .create: marks[name] = .added
      case .replace: marks[name] = .replaced
      case .delete: marks[name] = .removed
      case .update, .start, .adopt: marks[name] = .changed
      case .pull, .join, .leave: break
      }
    }
    for i in t.instances.indices { t.instances[i].change = marks[t.instances[i].name] }
    let kept = Set(t.instances.map(\.name))
    for r in change.observed.state?.instances ?? [] where !kept.contains(r.name) {
      t.instances.append(Instance(name: r.name, group: r.group, ip: r.ip.description, node: r.spec?.labels[Labels.node], change: .removed))
    }
    return t
  }

  /// A running fixture: its recorded instances with the state the engine
  /// reports (`live`: instance name → state), and the faults in force.
  public static func running(state: FixtureState, manifest: Manifest?, live: [String: String], faults: [Fault]) -> Topology {
    let groups =
      manifest?.groups.map { Group(name: $0.name, dependsOn: $0.dependsOn) }
      ?? unique(state.instances.map(\.group)).map { Group(name: $0, dependsOn: []) }
    let instances = state.instances.map {
      Instance(name: $0.name, group: $0.group, ip: $0.ip.description, node: $0.spec?.labels[Labels.node], state: live[$0.name] ?? "missing")
    }
    return Topology(
      fixture: state.fixture, network: Naming.network(state.fixture), subnet: state.subnet?.description ?? "-", groups: groups,
      instances: instances, faults: faults)
  }

  static func make(manifest: Manifest, desired: DesiredFixture, state: FixtureState?) -> Topology {
    Topology(
      fixture: desired.fixture, network: desired.network.name, subnet: desired.network.subnet.description,
      groups: manifest.groups.map { Group(name: $0.name, dependsOn: $0.dependsOn) },
      instances: desired.instances.map {
        Instance(name: $0.name, group: $0.group, ip: $0.ip.description, node: $0.container.labels[Labels.node])
      })
  }

  static func unique(_ names: [String]) -> [String] {
    var seen: Set<String> = []
    return names.filter { seen.insert($0).inserted }
  }

  /// The pairs of instances a partition cuts (either drops the other), each once, in order.
  public static func cutPairs(_ fault: Fault) -> [(String, String)] {
    var pairs: Set<[String]> = []
    for (a, drops) in fault.grudge ?? [:] {
      for b in drops where a != b { pairs.insert([a, b].sorted()) }
    }
    return pairs.sorted { $0.lexicographicallyPrecedes($1) }.map { ($0[0], $0[1]) }
  }
}

import Foundation
import Manifest

/// A driver that decides where each instance runs (the swarm driver): the
/// plan asks it to place the desired instances, so placement is part of the
/// spec the plan shows and hashes.
public protocol PlacingDriver: Driver {
  /// `desired` with each instance's node in its container labels
  /// (``Labels/node``) and its spec hash made again.
  func place(_ desired: DesiredFixture, observed: ObservedFixture) async throws -> DesiredFixture
}

/// The swarm driver: standalone containers on the nodes of a Docker Swarm,
/// all on one attachable overlay network with the fixture's fixed subnet.
///
/// `DOCKER_HOST` names a manager; the manager lists the nodes, and each node
/// says where its own engine answers with the node label
/// `io.cthulhu.engine=unix:///path/to/docker.sock` (`scripts/swarm.sh` sets
/// it; on a real cluster, a socket forwarded from each node, e.g.
/// `ssh -nNT -L /run/n2.sock:/var/run/docker.sock n2`). Containers are
/// created, started and inspected through their node's engine by one
/// ``DockerDriver`` per node, the same code as on one host; the network is
/// made through the manager. A container's id here is `<node>:<engine id>`,
/// the node being its hostname in the swarm.
///
/// Why not swarm services: a service's task cannot take a fixed address
/// (moby/moby#24170) and is rescheduled by the engine, so an instance would
/// lose its identity; a standalone container attached to the overlay with
/// `--ip` keeps it, on any node (docs/DESIGN.md, "Swarm").
///
/// The owner calls ``shutdown()`` when done.
public final class SwarmDriver: PlacingDriver {
  let manager: DockerDriver
  let cluster: Cluster

  /// The label on a swarm node that gives its engine's endpoint.
  public static let engineLabel = "io.cthulhu.engine"
  /// The label of a node's anchor container (see ``create(_:)``).
  public static let anchorLabel = "io.cthulhu.anchor"

  public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    manager = try DockerDriver(environment: environment)
    cluster = Cluster(manager: manager)
  }

  public func shutdown() async throws {
    for node in await cluster.opened() { try? await node.driver.shutdown() }
    try await manager.shutdown()
  }

  /// A swarm node with its engine's driver.
  public struct Node: Sendable {
    /// The node's hostname: its name in container ids, placement and the plan.
    public var name: String
    public var id: String
    public var endpoint: String
    /// Ready and active: new instances may be placed here.
    public var schedulable: Bool
    let driver: DockerDriver
  }

  /// The nodes, listed once from the manager (a command is short; a node
  /// that joins later is seen by the next one).
  actor Cluster {
    let manager: DockerDriver
    var nodes: [Node]?
    /// The one listing under way: concurrent first calls share it, so each
    /// node gets one engine client.
    var loading: Task<[Node], any Error>?
    init(manager: DockerDriver) { self.manager = manager }

    func all() async throws -> [Node] {
      if let nodes { return nodes }
      let task: Task<[Node], any Error>
      if let loading {
        task = loading
      } else {
        let manager = manager
        task = Task { try await Self.list(manager) }
        loading = task
      }
      do {
        let made = try await task.value
        nodes = made
        return made
      } catch {
        if loading == task { loading = nil }
        throw error
      }
    }

    static func list(_ manager: DockerDriver) async throws -> [Node] {
      let listed: [API.SwarmNode]
      do {
        listed = try await manager.swarmNodes()
      } catch let e as DriverError where e.code == .engine(status: 503) || e.code == .engine(status: 406) {
        throw DriverError(
          .unsupported,
          "the engine at DOCKER_HOST is not a swarm manager (\(e)); point DOCKER_HOST at a manager of the swarm (scripts/swarm.sh up prints one)")
      }
      var made: [Node] = []
      for n in listed {
        let name = n.Description?.Hostname ?? n.ID
        guard let endpoint = n.Spec.Labels?[SwarmDriver.engineLabel], !endpoint.isEmpty else {
          throw DriverError(
            .unsupported,
            "swarm node \(name) has no label \(SwarmDriver.engineLabel) saying where its engine answers; add it: docker node update --label-add \(SwarmDriver.engineLabel)=unix:///path/to/its/docker.sock \(n.ID)"
          )
        }
        guard !made.contains(where: { $0.name == name }) else {
          throw DriverError(.unsupported, "two swarm nodes are named \(name); cthulhu names nodes by hostname, so give each node its own")
        }
        let driver = try DockerDriver(environment: ["DOCKER_HOST": endpoint])
        made.append(
          Node(
            name: name, id: n.ID, endpoint: endpoint,
            schedulable: n.Status?.State == "ready" && (n.Spec.Availability ?? "active") == "active", driver: driver))
      }
      return made.sorted { $0.name < $1.name }
    }

    func opened() -> [Node] { nodes ?? [] }

    func node(named name: String) async throws -> Node {
      guard let n = try await all().first(where: { $0.name == name }) else {
        throw DriverError(.notFound, "no swarm node is named \(name) (any more); cthulhu's instances on it cannot be reached")
      }
      return n
    }
  }

  /// Every node, for tests and status: name, endpoint, schedulable.
  public func nodes() async throws -> [Node] { try await cluster.all() }

  /// `node:id` → the node and the engine's id.
  func locate(_ id: String) async throws -> (Node, String) {
    guard let colon = id.firstIndex(of: ":") else {
      throw DriverError(.notFound, "container id \(id) names no swarm node (the swarm driver's ids are <node>:<id>)")
    }
    return (try await cluster.node(named: String(id[..<colon])), String(id[id.index(after: colon)...]))
  }

  /// Runs `body` on every node at once; results in node order.
  func onEveryNode<T: Sendable>(_ body: @escaping @Sendable (Node) async throws -> T) async throws -> [(Node, T)] {
    let nodes = try await cluster.all()
    return try await withThrowingTaskGroup(of: (Int, T).self) { group in
      for (i, n) in nodes.enumerated() { group.addTask { (i, try await body(n)) } }
      var out: [(Int, T)] = []
      for try await r in group { out.append(r) }
      return out.sorted { $0.0 < $1.0 }.map { (nodes[$0.0], $0.1) }
    }
  }

  // MARK: - Listing

  public func containers(fixture: String) async throws -> [ObservedContainer] {
    try await onEveryNode { try await $0.driver.containers(fixture: fixture) }.flatMap(Self.qualified)
  }

  public func containers(root: String) async throws -> [ObservedContainer] {
    try await onEveryNode { try await $0.driver.containers(root: root) }.flatMap(Self.qualified)
  }

  /// The instances' containers, ids qualified by node (anchors are the driver's own, not listed).
  static func qualified(_ node: Node, _ list: [ObservedContainer]) -> [ObservedContainer] {
    list.filter { $0.labels[anchorLabel] == nil }.map { c in
      var c = c
      c.id = "\(node.name):\(c.id)"
      return c
    }
  }

  /// The networks of every node (the overlay once, by id): a subnet picked
  /// for the fixture must not overlap a network of any node.
  public func networks() async throws -> [ObservedNetwork] {
    var seen = Set<String>()
    return try await onEveryNode { try await $0.driver.networks() }.flatMap(\.1).filter { seen.insert($0.id).inserted }
  }

  // MARK: - Images

  /// The image's id when every node has it, and the same one; nil when a
  /// node lacks it (apply then pulls it there).
  public func imageID(_ reference: String) async throws -> String? {
    let ids = try await onEveryNode { try await $0.driver.imageID(reference) }
    guard ids.allSatisfy({ $0.1 != nil }) else { return nil }
    let distinct = Set(ids.compactMap(\.1))
    guard distinct.count == 1 else {
      let which = ids.map { "\($0.0.name): \($0.1!.prefix(19))" }.joined(separator: ", ")
      throw DriverError(.imageUnavailable, "image '\(reference)' differs across the swarm's nodes (\(which)); load the same image on every node")
    }
    return distinct.first
  }

  /// Pulls `reference` on every node that lacks it.
  public func pull(_ reference: String) async throws -> String {
    _ = try await onEveryNode { n -> String in
      if let id = try await n.driver.imageID(reference) { return id }
      do {
        return try await n.driver.pull(reference)
      } catch let e as DriverError where e.code == .imageUnavailable {
        throw DriverError(.imageUnavailable, "on swarm node \(n.name): \(e.message)")
      }
    }
    guard let id = try await imageID(reference) else {
      throw DriverError(.imageUnavailable, "image '\(reference)' is still missing on a swarm node after the pull")
    }
    return id
  }

  public func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String {
    throw DriverError(.unsupported, "the swarm driver builds no images (a build lands on one engine); give the group an 'image' every node has")
  }

  // MARK: - Network

  /// The overlay, made through the manager. Every node that joins it takes
  /// an address of the swarm's choosing (its load-balancer endpoint); those
  /// come from the top ``DriverKind/reservedAddresses`` of the subnet,
  /// which the Resolver never gives an instance: measured, a node's
  /// endpoint took `.2` from under an instance that asked for it, whose
  /// start then hung until "attaching to network failed … context deadline
  /// exceeded" (20 s).
  public func createNetwork(_ spec: NetworkSpec) async throws -> String {
    try await manager.createOverlayNetwork(spec, nodeRange: Self.nodeRange(spec.subnet))
  }

  /// The top ``DriverKind/reservedAddresses`` addresses of `subnet`.
  static func nodeRange(_ subnet: IPv4Network) -> IPv4Network {
    let reserved = UInt64(DriverKind.swarm.reservedAddresses)
    let prefix = 32 - (reserved.trailingZeroBitCount)
    guard subnet.size > reserved else { return subnet }
    return IPv4Network(address: IPv4Address(subnet.address.value + UInt32(subnet.size - reserved)), prefix: prefix)
  }

  /// Removes the overlay through the manager. The swarm lets go of a
  /// removed container's attachment to it a moment after the container is
  /// gone (the node tells the manager), so a conflict is asked again, for
  /// ``releasePatience`` at most, before it stands.
  /// Returns once the manager no longer lists it (the swarm removes it
  /// asynchronously; each node then drops its own copy shortly after).
  public func removeNetwork(id: String) async throws {
    if let fixture = try await manager.networks().first(where: { $0.id == id })?.labels[Labels.fixture] {
      try await removeAnchors(fixture: fixture)
    }
    let end = ContinuousClock.now + Self.releasePatience
    while true {
      do {
        try await manager.removeNetwork(id: id)
        break
      } catch let e as DriverError where (e.code == .conflict || e.code == .engine(status: 400)) && ContinuousClock.now < end {
        // (409: active endpoints; 400: FailedPrecondition, "in use by task"
        // — the attachment of a container removed a moment ago.)
        try await Task.sleep(for: .milliseconds(200))
      }
    }
    while try await manager.networks().contains(where: { $0.id == id }) {
      guard ContinuousClock.now < end else {
        throw DriverError(.conflict, "the swarm still lists network \(id.prefix(12)) \(Self.releasePatience) after its removal")
      }
      try await Task.sleep(for: .milliseconds(100))
    }
  }

  static let releasePatience: Duration = .seconds(30)

  // MARK: - Placement

  /// Keeps every instance that runs on a node that is still in the swarm
  /// where it is; places each new one on the schedulable node with fewest of
  /// the fixture's instances (ties: the first node by name), in name order.
  /// Deterministic for one world, so a plan and the apply that re-plans agree.
  public func place(_ desired: DesiredFixture, observed: ObservedFixture) async throws -> DesiredFixture {
    let nodes = try await cluster.all()
    let candidates = nodes.filter(\.schedulable)
    guard !candidates.isEmpty else {
      throw DriverError(.unsupported, "the swarm has no node that is ready and active to place instances on")
    }
    let known = Set(nodes.map(\.name))
    let live = observed.containersByInstance
    var load = Dictionary(uniqueKeysWithValues: candidates.map { ($0.name, 0) })
    var out = desired
    var placed: [String?] = out.instances.map { d in
      guard let c = live[d.name], let node = c.labels[Labels.node] ?? c.id.split(separator: ":").first.map(String.init),
        known.contains(node)
      else { return nil }
      load[node, default: 0] += 1
      return node
    }
    for i in out.instances.indices where placed[i] == nil {
      let node = candidates.min { (load[$0.name]!, $0.name) < (load[$1.name]!, $1.name) }!.name
      load[node]! += 1
      placed[i] = node
    }
    for i in out.instances.indices {
      out.instances[i].container.labels[Labels.node] = placed[i]
      out.instances[i].specHash = out.instances[i].container.hash
    }
    return out
  }
}

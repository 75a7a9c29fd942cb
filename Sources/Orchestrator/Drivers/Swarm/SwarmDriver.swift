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
  private let cluster: Cluster

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

  // MARK: - One container, through its node's engine

  /// Creates the instance's container on its node, after making sure the
  /// node holds the fixture's overlay with an anchor: a container of the
  /// instance's image that only sleeps (`sleep`, entrypoint cleared),
  /// labelled ``anchorLabel``, one per node and fixture, removed with the
  /// network. Without it a node drops its copy of the overlay whenever its
  /// last instance stops, and a start in that moment fails with "network …
  /// not found" and leaves an attachment the swarm never releases, so the
  /// network cannot be removed (both measured here: a restart of the only
  /// instance on a node while its neighbour there was removed). An image
  /// without `sleep` gets no anchor, and that race stays.
  public func create(_ spec: ContainerSpec) async throws -> String {
    guard let name = spec.labels[Labels.node] else {
      throw DriverError(.unsupported, "container \(spec.name) was not placed on a swarm node (no \(Labels.node) label)")
    }
    let node = try await cluster.node(named: name)
    var labels = [Self.anchorLabel: "1"]
    for key in [Labels.fixture, Labels.root] { labels[key] = spec.labels[key] }
    do {
      try await node.driver.startAnchor(name: spec.network + "-anchor", image: spec.image, network: spec.network, labels: labels)
    } catch let e as DriverError where e.code.isTransport {
      throw e
    } catch {
      // (Best effort: see above.)
    }
    // The instance's files go into the container before it first starts
    // (no bind mount: the node may share no filesystem with this machine).
    let archive = try MountCopy.archive(binds: spec.binds, instance: spec.labels[Labels.instance])
    let cid = try await node.driver.create(Self.onNode(spec))
    do {
      try await node.driver.putArchive(id: cid, path: "/", tar: archive, what: "the files of \(spec.name)")
    } catch {
      try? await node.driver.removeAndWait(id: cid)
      throw error
    }
    return "\(node.name):" + cid
  }

  /// Removes the fixture's anchors on every node.
  func removeAnchors(fixture: String) async throws {
    _ = try await onEveryNode { n in
      let all = try await n.driver.containers(labelled: "\(Labels.fixture)=\(fixture)", network: nil)
      for a in all where a.labels[Self.anchorLabel] != nil { try await n.driver.removeAndWait(id: a.id) }
    }
  }

  /// Destroy is done: no anchor of the fixture stays (one is normally gone with the network already).
  public func forget(fixture: String) async {
    try? await removeAnchors(fixture: fixture)
  }

  /// Starts the container on its node. A node drops its copy of the
  /// overlay when its last container there stops, a moment later; a start
  /// (or the start half of a restart) that falls in that moment fails with
  /// "network … not found" (measured: a restart of the only instance on a
  /// node while its neighbour there was removed). When the node no longer
  /// has the network, the start is made again, for ``releasePatience`` at
  /// most: a start on a node without the network attaches it anew through
  /// the manager.
  public func start(id: String) async throws {
    let (n, cid) = try await locate(id)
    let end = ContinuousClock.now + Self.releasePatience
    while true {
      do {
        return try await n.driver.start(id: cid)
      } catch let e as DriverError where !e.code.isTransport && ContinuousClock.now < end {
        guard try await droppedNetwork(n, container: cid) else { throw e }
        try await Task.sleep(for: .milliseconds(200))
      }
    }
  }

  /// The container's fixture network is not on its node (any more).
  func droppedNetwork(_ n: Node, container: String) async throws -> Bool {
    guard let fixture = try await n.driver.inspect(id: container).labels[Labels.fixture] else { return false }
    let name = Naming.network(fixture)
    return try await !n.driver.networks().contains { $0.name == name }
  }

  /// (Each of stop, restart, kill and remove pulls the instance's log first: see ``pullLog(id:)``.)
  public func stop(id: String, timeout: Int?) async throws {
    let (n, cid) = try await locate(id)
    await pullLogFirst(id)
    try await n.driver.stop(id: cid, timeout: timeout)
  }

  /// A stop, then a ``start(id:)`` (which outlasts the node dropping the network).
  public func restart(id: String, timeout: Int?) async throws {
    let (n, cid) = try await locate(id)
    await pullLogFirst(id)
    try await n.driver.stop(id: cid, timeout: timeout)
    try await start(id: id)
  }

  public func kill(id: String, signal: String) async throws {
    let (n, cid) = try await locate(id)
    await pullLogFirst(id)
    try await n.driver.kill(id: cid, signal: signal)
  }

  public func pause(id: String) async throws {
    let (n, cid) = try await locate(id)
    try await n.driver.pause(id: cid)
  }

  public func unpause(id: String) async throws {
    let (n, cid) = try await locate(id)
    try await n.driver.unpause(id: cid)
  }

  public func remove(id: String, force: Bool) async throws {
    let (n, cid) = try await locate(id)
    await pullLogFirst(id)
    try await n.driver.remove(id: cid, force: force)
  }

  public func inspect(id: String) async throws -> ContainerDetails {
    let (n, cid) = try await locate(id)
    var d = try await n.driver.inspect(id: cid)
    d.id = "\(n.name):\(d.id)"
    return d
  }

  public func exec(id: String, command: [String]) async throws -> ExecResult {
    let (n, cid) = try await locate(id)
    return try await n.driver.exec(id: cid, command: command)
  }

  public func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        do {
          let (n, cid) = try await locate(id)
          for try await line in n.driver.logs(id: cid, follow: follow, since: since, timestamps: timestamps) {
            continuation.yield(line)
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }

  /// Network faults on a swarm go through a fault helper container started
  /// by the engine of the instance's node (``DockerFaultHelper``), so they
  /// work where that node is another machine: `auto` means the helper here,
  /// whatever this machine can see. `host` (`faults: { via: host }`) enters
  /// ``networkNamespace(id:)`` from this machine, where the nodes share it.
  public func netnsRunner(id: String, request: NetnsRequest) async throws -> (any NetnsRunner)? {
    let (n, cid) = try await locate(id)
    var onNode = request
    if onNode.via == .auto { onNode.via = .helper }
    if onNode.via == .host {
      guard let ns = try await networkNamespace(id: id) else { return nil }
      return HostNetns(namespace: ns)
    }
    return try await n.driver.netnsRunner(id: cid, request: onNode)
  }

  /// The fault helpers of the fixture at `root`, on every node.
  public func removeFaultHelpers(root: String, all: Bool) async throws -> [String] {
    try await onEveryNode { try await $0.driver.removeFaultHelpers(root: root, all: all) }.flatMap { (n, names) in names.map { n.name + ":" + $0 } }
  }

  /// `/proc/<pid>/ns/net` of the container's first process, when that PID
  /// is a process of this machine running this container: true where the
  /// nodes share this machine's PID namespace (scripts/swarm.sh's nodes).
  /// On a node that is another host the engine's PID means nothing here,
  /// and network faults are refused with that reason.
  public func networkNamespace(id: String) async throws -> String? {
    let (n, cid) = try await locate(id)
    let d = try await n.driver.inspect(id: cid)
    guard d.pid > 0 else { return nil }
    let full = d.id
    guard let cgroup = try? String(contentsOfFile: "/proc/\(d.pid)/cgroup", encoding: .utf8), cgroup.contains(full) else {
      throw DriverError(
        .unsupported,
        "instance container \(id) runs on swarm node \(n.name), whose processes this machine cannot see; network faults on another host need a fault helper on that node"
      )
    }
    return "/proc/\(d.pid)/ns/net"
  }
}

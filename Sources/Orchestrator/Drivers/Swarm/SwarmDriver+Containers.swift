import Foundation
import Manifest

extension SwarmDriver {
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
    guard let cgroup = ProcFile.text("/proc/\(d.pid)/cgroup"), cgroup.contains(full) else {
      throw DriverError(
        .unsupported,
        "instance container \(id) runs on swarm node \(n.name), whose processes this machine cannot see; network faults on another host need a fault helper on that node"
      )
    }
    return "/proc/\(d.pid)/ns/net"
  }
}

import Foundation
import Manifest
import Synchronization

/// An in-memory engine: the fake that proves the planner and executor
/// without Docker (unit tests, `bench` plans of 1,000 instances). It keeps
/// containers, networks and images in a dictionary and records every call.
public final class MemoryDriver: Driver {
  struct World {
    var containers: [String: (spec: ContainerSpec, observed: ObservedContainer)] = [:]
    /// Container name → id: a create checks its name here (a scan of every
    /// container per create made the engine itself O(N²)).
    var names: [String: String] = [:]
    var networks: [String: ObservedNetwork] = [:]
    var images: [String: String] = [:]
    var calls: [String] = []
    var nextID = 1
    /// Starts still to refuse, and with what.
    var refusals: [DriverError] = []
  }
  private let world = Mutex(World())

  public init(images: [String] = []) {
    world.withLock { w in for i in images { w.images[i] = "sha256:" + Hashing.sha256(i) } }
  }

  /// Every mutating call so far, as `verb target` lines.
  public var calls: [String] { world.withLock { $0.calls } }
  public func resetCalls() { world.withLock { $0.calls = [] } }

  /// Test hooks that act like a person at the engine, outside cthulhu.
  public func setState(instanceContainer name: String, _ state: ContainerState) {
    world.withLock { w in
      if let id = w.names[name] { w.containers[id]!.observed.state = state }
    }
  }
  public func removeOutside(containerNamed name: String) {
    world.withLock { w in
      if let id = w.names.removeValue(forKey: name) { w.containers[id] = nil }
    }
  }
  public func tag(_ image: String, id: String) { world.withLock { $0.images[image] = id } }
  /// The next `count` starts fail with `error`, as an engine that cannot
  /// start a container does (a restarted dockerd's leftovers, say).
  public func refuseStarts(_ count: Int, with error: DriverError) {
    world.withLock { $0.refusals += Array(repeating: error, count: count) }
  }

  public func containers(fixture: String) async throws -> [ObservedContainer] {
    world.withLock { w in w.containers.values.map(\.observed).filter { $0.labels[Labels.fixture] == fixture }.sorted { $0.name < $1.name } }
  }
  public func containers(root: String) async throws -> [ObservedContainer] {
    world.withLock { w in w.containers.values.map(\.observed).filter { $0.labels[Labels.root] == root }.sorted { $0.name < $1.name } }
  }
  public func networks() async throws -> [ObservedNetwork] { world.withLock { Array($0.networks.values) } }
  public func imageID(_ reference: String) async throws -> String? { world.withLock { $0.images[reference] } }
  public func pull(_ reference: String) async throws -> String {
    throw DriverError(.imageUnavailable, "image '\(reference)' is not on this machine and no registry answers")
  }
  public func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String {
    world.withLock { w in
      w.calls.append("build \(tag)")
      w.images[tag] = "sha256:" + Hashing.sha256(tag)
      return w.images[tag]!
    }
  }
  public func createNetwork(_ spec: NetworkSpec) async throws -> String {
    try world.withLock { w in
      if w.networks.values.contains(where: { $0.name == spec.name }) { throw DriverError.nameInUse("network \(spec.name) exists") }
      let id = "net\(w.nextID)"
      w.nextID += 1
      w.networks[id] = ObservedNetwork(id: id, name: spec.name, subnets: [spec.subnet], labels: spec.labels)
      w.calls.append("network-create \(spec.name) \(spec.subnet)")
      return id
    }
  }
  public func removeNetwork(id: String) async throws {
    try world.withLock { w in
      guard let n = w.networks.removeValue(forKey: id) else { throw DriverError.notFound("no network \(id)") }
      w.calls.append("network-remove \(n.name)")
    }
  }
  public func create(_ spec: ContainerSpec) async throws -> String {
    try world.withLock { w in
      if w.names[spec.name] != nil { throw DriverError.nameInUse("container name \(spec.name) is in use") }
      guard w.images[spec.image] != nil else { throw DriverError(.imageUnavailable, "no such image: \(spec.image)") }
      let id = String(format: "c%011d", w.nextID)
      w.nextID += 1
      let o = ObservedContainer(
        id: id, name: spec.name, image: spec.image, imageID: w.images[spec.image]!, state: .created,
        health: spec.healthcheck == nil ? nil : "starting", labels: spec.labels,
        ports: spec.ports.map { PortBinding(container: $0.container, proto: $0.proto, host: $0.host ?? 40000 + w.nextID) },
        ip: spec.ip)
      w.containers[id] = (spec, o)
      w.names[spec.name] = id
      w.calls.append("create \(spec.name)")
      return id
    }
  }
  private func mutate(_ verb: String, _ id: String, _ change: (inout ObservedContainer) -> Void) throws {
    try world.withLock { w in
      guard var c = w.containers[id] else { throw DriverError.notFound("no such container: \(id)") }
      change(&c.observed)
      w.containers[id] = c
      w.calls.append("\(verb) \(c.spec.name)")
    }
  }
  public func start(id: String) async throws {
    try world.withLock { w in
      guard !w.refusals.isEmpty, let c = w.containers[id] else { return }
      w.calls.append("start-refused \(c.spec.name)")
      throw w.refusals.removeFirst()
    }
    try mutate("start", id) {
      $0.state = .running; if $0.health != nil { $0.health = "healthy" }
    }
  }
  public func stop(id: String, timeout: Int?) async throws { try mutate("stop", id) { $0.state = .exited } }
  public func restart(id: String, timeout: Int?) async throws { try mutate("restart", id) { $0.state = .running } }
  public func kill(id: String, signal: String) async throws {
    try mutate("kill-\(signal)", id) { if signal == "KILL" || signal == "TERM" { $0.state = .exited } }
  }
  public func pause(id: String) async throws { try mutate("pause", id) { $0.state = .paused } }
  public func unpause(id: String) async throws { try mutate("unpause", id) { $0.state = .running } }
  public func remove(id: String, force: Bool) async throws {
    try world.withLock { w in
      guard let c = w.containers.removeValue(forKey: id) else { throw DriverError.notFound("no such container: \(id)") }
      w.names[c.spec.name] = nil
      w.calls.append("remove \(c.spec.name)")
    }
  }
  public func inspect(id: String) async throws -> ContainerDetails {
    try world.withLock { w in
      guard let c = w.containers[id]?.observed else { throw DriverError.notFound("no such container: \(id)") }
      return ContainerDetails(
        id: id, state: c.state, health: c.health, pid: c.state == .running ? 4242 : 0, ip: c.ip, ports: c.ports,
        labels: c.labels)
    }
  }
  public func networkNamespace(id: String) async throws -> String? {
    throw DriverError(.unsupported, "the in-memory driver has no network namespaces")
  }
  public func exec(id: String, command: [String]) async throws -> ExecResult {
    throw DriverError(.unsupported, "the in-memory driver runs no commands")
  }
  public func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    AsyncThrowingStream { $0.finish() }
  }
}

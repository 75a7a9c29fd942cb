import Foundation
import Manifest

extension ProcessDriver {
  /// Every process fixture's network from the registry, and the subnets the
  /// host routes (so a new fixture never takes an address in use).
  public func networks() async throws -> [ObservedNetwork] {
    registry.networks().map { n in ObservedNetwork(id: n.id, name: n.spec.name, subnets: [n.spec.subnet], labels: n.spec.labels) }
      + HostSubnets.list()
  }

  /// The fixture's network; in namespaces mode its bridge (with root only).
  /// Made again with the same name and subnet, it finishes what a killed
  /// cthulhu began and returns the same id.
  public func createNetwork(_ spec: NetworkSpec) async throws -> String {
    guard let fixture = spec.labels[Labels.fixture] else {
      throw DriverError(.unsupported, "network \(spec.name): the process driver needs the \(Labels.fixture) label")
    }
    let mode = spec.labels[Labels.networkMode].flatMap(NetworkMode.init(rawValue:)) ?? .loopback
    let loopback = IPv4Network("127.0.0.0/8")!
    switch mode {
    case .loopback where !loopback.contains(spec.subnet.address) || spec.subnet.prefix < 8:
      throw OrchestratorError(.unsupported, "network.mode: loopback needs a subnet inside 127.0.0.0/8 (got \(spec.subnet))")
    case .namespaces:
      try Namespaces.requirePrivileges()
      if loopback.overlaps(spec.subnet) {
        throw OrchestratorError(.unsupported, "network.mode: namespaces needs a subnet outside 127.0.0.0/8 (got \(spec.subnet))")
      }
    default: break
    }
    let n = try registry.locked(fixture) { () throws -> ProcessNetwork in
      if let old = registry.network(fixture: fixture) {
        guard old.spec.name == spec.name, old.spec.subnet == spec.subnet, old.mode == mode else {
          throw DriverError.nameInUse("network \(old.spec.name) of fixture '\(fixture)' already exists (\(old.mode.rawValue), \(old.spec.subnet))")
        }
        return old
      }
      let n = ProcessNetwork(
        id: ProcessRegistry.newID(), spec: spec, mode: mode, bridge: mode == .namespaces ? Namespaces.bridge(fixture: fixture) : nil,
        ready: mode == .loopback, createdAt: Date())
      try registry.save(n)
      return n
    }
    try await ensureBridge(n)
    return n.id
  }

  /// Sets up a namespaces-mode bridge that is not marked ready yet.
  func ensureBridge(_ n: ProcessNetwork) async throws {
    guard !n.ready else { return }
    try await Namespaces.setUpBridge(n)
    try registry.locked(n.fixture) {
      guard var now = registry.network(fixture: n.fixture), now.id == n.id else { return }
      now.ready = true
      try registry.save(now)
    }
  }

  /// Refused while instances remain (Docker: "active endpoints").
  public func removeNetwork(id: String) async throws {
    guard let n = registry.networks().first(where: { $0.id == id }) else { throw DriverError.notFound("no such network: \(id)") }
    let left = registry.instances(fixture: n.fixture)
    if !left.isEmpty {
      throw DriverError.conflict("network \(n.spec.name) still has instances (\(left.map(\.name).joined(separator: ", "))); remove them first")
    }
    if n.mode == .namespaces {
      try Namespaces.requirePrivileges()
      try await Namespaces.tearDownBridge(n)
    }
    try registry.locked(n.fixture) { registry.delete(n) }
    registry.removeFixtureIfEmpty(n.fixture)
  }

  public func forget(fixture: String) async { registry.removeFixtureIfEmpty(fixture) }

  public func networkNamespace(id: String) async throws -> String? {
    let r = try record(id)
    guard r.mode == .namespaces, let ns = r.namespace else {
      throw DriverError(
        .unsupported,
        "network faults need driver: process with network.mode: namespaces (or the docker driver): in loopback mode all instances share one network namespace, so address rules cannot separate them"
      )
    }
    // The named namespace outlives the process (and keeps its rules) until the instance is removed.
    let path = Namespaces.path(namespace: ns)
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  public var namespaceOutlivesStop: Bool { true }
}

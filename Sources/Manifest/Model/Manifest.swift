/// A decoded, validated cthulhu manifest: the typed form of `cthulhu.yaml`.
///
/// Values here are final: defaults are applied, `defaults:` is merged under
/// every group, and relative paths are made absolute against the manifest's
/// folder. Every value that came from the file keeps the ``SourceLocation`` of
/// the node it was read from, so later stages (template rendering, planning)
/// can point back at the line that caused a problem.
public struct Manifest: Sendable, Hashable {
  /// Absolute path of the manifest file (or a synthetic name such as `<stdin>`).
  public var path: String
  /// Fixture name: `[a-z0-9][a-z0-9-]*`, at most 40 characters. Names the
  /// containers, the network and every label cthulhu puts on what it makes.
  public var fixture: String
  public var driver: DriverKind
  /// Absolute path of the fixture folder (`root:`, default `cthulhu-fixture`
  /// beside the manifest).
  public var root: String
  public var network: NetworkSettings
  /// `faults:`: how network faults reach the instances.
  public var faults: FaultSettings = .init()
  /// `nemesis:`: faults on a schedule, run by `cthulhu nemesis start`. Not
  /// part of the topology: it changes no plan, and `==` leaves it out.
  public var nemesis: NemesisSchedule?
  /// `workloads:`: correctness runs for `cthulhu test`, in file order. Not
  /// part of the topology: it changes no plan, and `==` leaves it out.
  public var workloads: [Workload] = []
  /// Free values for templates (`vars:`), in file order.
  public var vars: [(key: String, value: Value)]
  /// Groups in manifest order; instance names are handed out in this order.
  public var groups: [Group]

  public init(
    path: String, fixture: String, driver: DriverKind = .docker, root: String,
    network: NetworkSettings = .init(), vars: [(key: String, value: Value)] = [], groups: [Group]
  ) {
    self.path = path
    self.fixture = fixture
    self.driver = driver
    self.root = root
    self.network = network
    self.vars = vars
    self.groups = groups
  }

  /// Folder that holds the manifest; template sources and build contexts are
  /// relative to it.
  public var directory: String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  public func group(named name: String) -> Group? { groups.first { $0.name == name } }

  /// Most instances this manifest's driver can hold: ``ManifestLoader/maxInstances``
  /// for the process driver in `loopback` mode; where every instance is a
  /// port of one Linux bridge (the docker driver, `namespaces` mode),
  /// ``ManifestLoader/maxBridgedInstances``.
  public var instanceLimit: Int {
    driver == .process && network.mode == .loopback ? ManifestLoader.maxInstances : ManifestLoader.maxBridgedInstances
  }

  /// What puts the instances on one bridge, in words (for messages).
  var bridgedBy: String {
    switch driver {
    case .docker: "the docker driver"
    case .swarm: "the swarm driver's overlay network"
    case .process: "network.mode: namespaces"
    }
  }

  public static func == (a: Manifest, b: Manifest) -> Bool {
    a.path == b.path && a.fixture == b.fixture && a.driver == b.driver && a.root == b.root
      && a.network == b.network && a.faults == b.faults && a.groups == b.groups
      && a.vars.map(\.key) == b.vars.map(\.key) && a.vars.map(\.value) == b.vars.map(\.value)
  }

  public func hash(into h: inout Hasher) {
    h.combine(path)
    h.combine(fixture)
    h.combine(groups)
  }
}

public enum DriverKind: String, Sendable, Hashable, Codable, CaseIterable {
  case docker
  case process
  /// Standalone containers on the nodes of a Docker Swarm, on one attachable
  /// overlay network (`DOCKER_HOST` names a manager; docs/DESIGN.md, "Swarm").
  case swarm

  /// Addresses at the top of the fixture's subnet that instances never
  /// take: on a swarm overlay, every node that joins the network takes one
  /// for itself (its load-balancer endpoint, allocated by the swarm) from
  /// that range, so it never collides with an instance's fixed address.
  public var reservedAddresses: Int { self == .swarm ? 32 : 0 }
}

public struct NetworkSettings: Sendable, Hashable {
  /// `network.subnet`; `nil` lets cthulhu pick a free one at apply time.
  public var subnet: IPv4Network?
  /// `network.mode` (process driver only).
  public var mode: NetworkMode

  public init(subnet: IPv4Network? = nil, mode: NetworkMode = .loopback) {
    self.subnet = subnet
    self.mode = mode
  }
}

/// `faults:` in the manifest.
public struct FaultSettings: Sendable, Hashable {
  /// `faults.via`.
  public var via: FaultPath
  public init(via: FaultPath = .auto) { self.via = via }
}

/// How network faults reach an instance's network namespace. Either way the
/// same rules are made (cthulhu's iptables chains and root qdisc), so a
/// fixture may change its path between commands.
public enum FaultPath: String, Sendable, Hashable, Codable, CaseIterable {
  /// The host path where the instance's namespace is on this machine,
  /// else the engine path (docs/DESIGN.md, "Network faults").
  case auto
  /// `nsenter --net=<namespace>` on this machine (root).
  case host
  /// A short-lived fault helper container started through the engine that
  /// runs the instance, on its node, in its network namespace, with
  /// `NET_ADMIN` only.
  case helper
}

public enum NetworkMode: String, Sendable, Hashable, Codable, CaseIterable {
  /// Process driver, no root: each instance listens on its own 127.x address.
  case loopback
  /// Process driver, root: each instance in its own network namespace on a bridge.
  case namespaces
}

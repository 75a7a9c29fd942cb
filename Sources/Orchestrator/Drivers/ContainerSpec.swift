import Foundation
import Manifest

/// A bridge network for one fixture.
public struct NetworkSpec: Sendable, Hashable, Codable {
  public var name: String
  public var subnet: IPv4Network
  public var gateway: IPv4Address
  public var labels: [String: String]
  public init(name: String, subnet: IPv4Network, gateway: IPv4Address, labels: [String: String]) {
    self.name = name
    self.subnet = subnet
    self.gateway = gateway
    self.labels = labels
  }
}

/// Everything the engine needs to create one instance's container. Its
/// canonical JSON (sorted keys) is what the spec hash covers.
public struct ContainerSpec: Sendable, Hashable, Codable {
  /// Engine-wide container name, `<fixture>-<instance>`.
  public var name: String
  public var image: String
  /// Resolved image id at plan time (so a re-tagged image is seen as a change).
  public var imageID: String?
  public var command: [String]?
  /// `KEY=VALUE`, in manifest order.
  public var env: [String]
  public var hostname: String
  public var labels: [String: String]
  public var binds: [Bind]
  public var network: String
  public var ip: IPv4Address
  /// DNS names other instances reach this one by (the instance name).
  public var aliases: [String]
  public var ports: [PortBinding]
  public var memory: Int64?
  public var nanoCPUs: Int64?
  public var stopTimeout: Int?
  public var healthcheck: HealthcheckSpec?
  /// Who the instance runs as: Docker's `User` (`alice`, `1000:1000`, as the
  /// manifest wrote it); the process driver's numeric `uid:gid`. Nil: the
  /// image's user. (Nil is not encoded, so specs without it hash as before.)
  public var user: String?

  public init(
    name: String, image: String, imageID: String? = nil, command: [String]? = nil, env: [String] = [],
    hostname: String, labels: [String: String] = [:], binds: [Bind] = [], network: String,
    ip: IPv4Address, aliases: [String] = [], ports: [PortBinding] = [], memory: Int64? = nil,
    nanoCPUs: Int64? = nil, stopTimeout: Int? = nil, healthcheck: HealthcheckSpec? = nil, user: String? = nil
  ) {
    self.name = name
    self.image = image
    self.imageID = imageID
    self.command = command
    self.env = env
    self.hostname = hostname
    self.labels = labels
    self.binds = binds
    self.network = network
    self.ip = ip
    self.aliases = aliases
    self.ports = ports
    self.memory = memory
    self.nanoCPUs = nanoCPUs
    self.stopTimeout = stopTimeout
    self.healthcheck = healthcheck
    self.user = user
  }
}

public struct Bind: Sendable, Hashable, Codable {
  public var host: String
  public var container: String
  public var readOnly: Bool
  public init(host: String, container: String, readOnly: Bool = false) {
    self.host = host
    self.container = container
    self.readOnly = readOnly
  }
}

public struct PortBinding: Sendable, Hashable, Codable {
  public var container: Int
  public var proto: String
  /// nil: the engine picks a free host port.
  public var host: Int?
  public init(container: Int, proto: String = "tcp", host: Int? = nil) {
    self.container = container
    self.proto = proto
    self.host = host
  }
}

/// A Docker-style health check, durations in nanoseconds.
public struct HealthcheckSpec: Sendable, Hashable, Codable {
  public var test: [String]
  public var interval: Int64
  public var timeout: Int64
  public var retries: Int
  public var startPeriod: Int64
  public init(test: [String], interval: Int64, timeout: Int64, retries: Int, startPeriod: Int64) {
    self.test = test
    self.interval = interval
    self.timeout = timeout
    self.retries = retries
    self.startPeriod = startPeriod
  }
}

extension ContainerSpec {
  /// What the `cthulhu.spec-hash` label records: a change of it is a change
  /// of the container (the plan replaces it). One definition for the
  /// Resolver, the apply (once a pulled image has its id) and swarm placement.
  var hash: String { Hashing.sha256(json: self) }
}

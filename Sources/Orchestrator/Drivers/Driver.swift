import Foundation
import Manifest

/// The outside world as the orchestrator sees it: a container engine (Docker),
/// host processes, or an in-memory fake in tests.
///
/// A driver decides nothing: the planner decides, the executor calls one
/// driver method per engine operation. Every listing is filtered by the
/// fixture's labels, so nothing cthulhu did not create is ever seen as its own.
/// Keep this free of single-host assumptions: an instance's address and its
/// fault handle come from the driver.
public protocol Driver: Sendable {
  /// Containers that carry `io.cthulhu.fixture=<fixture>` (running or not).
  func containers(fixture: String) async throws -> [ObservedContainer]
  /// Containers that carry `io.cthulhu.root=<root>`, of whichever fixture:
  /// how `destroy` finds what a folder's fixture made when its state is gone.
  func containers(root: String) async throws -> [ObservedContainer]
  /// Every network the engine knows (cthulhu's and others'), so that a free
  /// subnet can be picked and collisions reported.
  func networks() async throws -> [ObservedNetwork]
  /// The local image id of `reference`, or nil when the engine does not have it.
  func imageID(_ reference: String) async throws -> String?
  /// Pulls `reference`; throws a clear error when no registry answers.
  func pull(_ reference: String) async throws -> String
  /// Builds `dockerfile` in `context` (absolute folder) and tags it `tag`.
  /// Returns the image id.
  func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String

  func createNetwork(_ spec: NetworkSpec) async throws -> String
  func removeNetwork(id: String) async throws

  /// Creates (does not start) a container; returns its id.
  func create(_ spec: ContainerSpec) async throws -> String
  func start(id: String) async throws
  /// Stops with SIGTERM, then SIGKILL after `timeout` seconds (engine default when nil).
  func stop(id: String, timeout: Int?) async throws
  func restart(id: String, timeout: Int?) async throws
  /// Sends `signal` (a name such as `HUP`, `KILL`).
  func kill(id: String, signal: String) async throws
  func pause(id: String) async throws
  func unpause(id: String) async throws
  /// Removes the container (and its anonymous volumes); `force` kills it first.
  func remove(id: String, force: Bool) async throws
  /// Live details of one container, including the host PID whose network
  /// namespace faults enter.
  func inspect(id: String) async throws -> ContainerDetails
  /// Runs `command` inside the container, waits, and returns its exit code and output.
  func exec(id: String, command: [String]) async throws -> ExecResult
  /// The container's stdout and stderr, in order, as raw lines (timestamps
  /// prefixed when `timestamps`); `follow` keeps the stream open.
  func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error>
  /// The network namespace that network faults enter for a running (or
  /// paused) instance: a path `nsenter --net=` accepts, such as
  /// `/proc/<pid>/ns/net` or `/run/netns/<name>`. Nil when the instance is
  /// not running. Throws `DriverError(.unsupported, …)` with a sentence a
  /// person can act on when this driver or mode cannot host network faults.
  func networkNamespace(id: String) async throws -> String?
  /// What runs the fault tools in the network namespace of a running (or
  /// paused) instance, by the path `request.via` asks for (see
  /// ``NetnsRunner``); nil when the instance is not running. The default
  /// enters ``networkNamespace(id:)`` from the host; an engine-backed driver
  /// may start a fault helper on the instance's node instead.
  func netnsRunner(id: String, request: NetnsRequest) async throws -> (any NetnsRunner)?
  /// Removes the fault helpers left for the fixture at `root` (by their
  /// labels): all of them (`destroy`), or (`all: false`) only those whose
  /// cthulhu is no longer running. Returns their names. Drivers that start
  /// no helpers remove nothing.
  func removeFaultHelpers(root: String, all: Bool) async throws -> [String]
  /// Removes the images built for `fixture` (they carry its label), as
  /// `destroy --rmi` asks; returns their tags (or ids). Drivers that build
  /// nothing remove nothing.
  func removeBuiltImages(fixture: String) async throws -> [String]
  /// Destroy is done with the fixture's containers and network: what the
  /// driver keeps for the fixture and no longer needs may go (the process
  /// driver's registry folder, once it holds no record: a destroy killed
  /// after the last removal left it). Best effort.
  func forget(fixture: String) async
}

extension Driver {
  public func removeBuiltImages(fixture: String) async throws -> [String] { [] }
  public func forget(fixture: String) async {}
}

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

public enum ContainerState: String, Sendable, Hashable, Codable {
  case created, running, paused, restarting, removing, exited, dead
}

/// A container as one listing saw it.
public struct ObservedContainer: Sendable, Hashable, Codable {
  public var id: String
  /// Without the leading slash the engine adds.
  public var name: String
  public var image: String
  public var imageID: String
  public var state: ContainerState
  /// `healthy`, `unhealthy`, `starting`, or nil without a health check.
  public var health: String?
  public var labels: [String: String]
  /// Published ports: container port/proto → host port.
  public var ports: [PortBinding]
  /// The container's address on the fixture network, if attached.
  public var ip: IPv4Address?
  public init(
    id: String, name: String, image: String, imageID: String, state: ContainerState,
    health: String? = nil, labels: [String: String], ports: [PortBinding] = [], ip: IPv4Address? = nil
  ) {
    self.id = id
    self.name = name
    self.image = image
    self.imageID = imageID
    self.state = state
    self.health = health
    self.labels = labels
    self.ports = ports
    self.ip = ip
  }
}

public struct ObservedNetwork: Sendable, Hashable, Codable {
  public var id: String
  public var name: String
  public var subnets: [IPv4Network]
  public var labels: [String: String]
  public init(id: String, name: String, subnets: [IPv4Network], labels: [String: String]) {
    self.id = id
    self.name = name
    self.subnets = subnets
    self.labels = labels
  }
}

public struct ContainerDetails: Sendable, Hashable, Codable {
  public var id: String
  public var state: ContainerState
  public var health: String?
  /// Host PID of the container's first process (0 when not running).
  public var pid: Int32
  public var exitCode: Int?
  public var startedAt: Date?
  public var ip: IPv4Address?
  public var ports: [PortBinding]
  public var labels: [String: String]
  public init(
    id: String, state: ContainerState, health: String? = nil, pid: Int32 = 0, exitCode: Int? = nil,
    startedAt: Date? = nil, ip: IPv4Address? = nil, ports: [PortBinding] = [], labels: [String: String] = [:]
  ) {
    self.id = id
    self.state = state
    self.health = health
    self.pid = pid
    self.exitCode = exitCode
    self.startedAt = startedAt
    self.ip = ip
    self.ports = ports
    self.labels = labels
  }
}

public struct ExecResult: Sendable, Hashable {
  public var exitCode: Int32
  public var stdout: String
  public var stderr: String
  public init(exitCode: Int32, stdout: String, stderr: String) {
    self.exitCode = exitCode
    self.stdout = stdout
    self.stderr = stderr
  }
}

public struct LogLine: Sendable, Hashable {
  public enum Stream: Sendable, Hashable { case stdout, stderr }
  public var stream: Stream
  public var text: String
  public init(stream: Stream, text: String) {
    self.stream = stream
    self.text = text
  }
}

/// Labels cthulhu puts on everything it makes.
public enum Labels {
  public static let fixture = "io.cthulhu.fixture"
  public static let root = "io.cthulhu.root"
  public static let instance = "io.cthulhu.instance"
  public static let group = "io.cthulhu.group"
  public static let specHash = "io.cthulhu.spec-hash"
  public static let filesHash = "io.cthulhu.files-hash"
  /// The swarm node an instance is placed on (its hostname); part of the
  /// spec, so the plan shows placement and a kept instance keeps its node.
  public static let node = "io.cthulhu.node"
}

extension Driver {
  /// Removes a container (force) and returns once it is gone. A removal
  /// already under way (a cthulhu killed mid-step left it running in the
  /// engine) is waited for, not reported; a container already gone is fine.
  public func removeAndWait(id: String, deadline: Duration = .seconds(60)) async throws {
    do {
      try await remove(id: id, force: true)
      return
    } catch let e as DriverError where e.code == .notFound {
      return
    } catch let e as DriverError where e.code == .removalInProgress {
      let end = ContinuousClock.now + deadline
      while ContinuousClock.now < end {
        do { _ = try await inspect(id: id) } catch let e as DriverError where e.code == .notFound { return }
        try await Task.sleep(for: .milliseconds(50))
      }
      throw e
    }
  }
}

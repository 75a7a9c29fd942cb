import Foundation
import Manifest

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

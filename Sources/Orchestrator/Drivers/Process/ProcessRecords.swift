import Foundation
import Manifest

/// One instance of the process driver, as its registry file keeps it. The
/// file is the driver's whole memory of the instance: cthulhu exits after
/// every command, the process does not.
struct ProcessInstance: Codable, Sendable, Hashable {
  /// 64 hex digits, like a Docker container id.
  var id: String
  var fixture: String
  /// The spec it was created from; its labels are what listings report.
  var spec: ContainerSpec
  var createdAt: Date
  var mode: NetworkMode
  /// What is spawned: the spec's command, behind `nsenter --net=…` in namespaces mode.
  var argv: [String]
  /// The whole environment the process gets.
  var env: [String]
  /// Its working directory: the fixture's `<root>/<ip>` folder.
  var cwd: String
  /// Where its stdout and stderr are appended.
  var log: String
  /// The user it is switched to (nil: cthulhu's own); its prefix is in
  /// `argv` already, and exec and health checks run behind it too.
  var userSwitch: UserSwitch?
  /// Namespaces mode: the named network namespace (`/run/netns/<name>`) and
  /// the host end of its veth pair.
  var namespace: String?
  var hostLink: String?
  /// The namespace is wired to the bridge (set after the last `ip` command).
  var wired: Bool?
  /// Set just before a spawn and cleared with the PID recorded: a cthulhu
  /// killed in between leaves it, and the process is then found by its
  /// `CTHULHU_ID` (see ``ProcFS/sessionLeaders(withEnvironment:)``).
  var spawning: Date?
  /// The last start: PID (also its process group and session) and the start
  /// time that tells it from a later process with the same PID.
  var pid: Int32?
  var startTime: UInt64?
  var startedAt: Date?
  var finishedAt: Date?
  /// Known only when cthulhu itself reaped the process (it was its child).
  var exitCode: Int?
  var health: HealthRecord?

  var name: String { spec.name }
  /// In every instance's environment, so its process can be found again.
  var marker: String { "CTHULHU_ID=" + id }
  var instance: String { spec.labels[Labels.instance] ?? spec.name }
}

/// The last health-check verdict (see `ProcessHealth`).
struct HealthRecord: Codable, Sendable, Hashable {
  /// `starting`, `healthy` or `unhealthy`, as Docker says it.
  var status: String
  /// Failures in a row, counted at most once an interval.
  var failures: Int = 0
  var lastRun: Date?
  var lastCounted: Date?
  var lastOutput: String?

  static let starting = HealthRecord(status: "starting")
}

/// One fixture's network: a record only in loopback mode; a bridge, its
/// gateway address and a FORWARD rule in namespaces mode.
struct ProcessNetwork: Codable, Sendable, Hashable {
  var id: String
  var spec: NetworkSpec
  var mode: NetworkMode
  /// The bridge (namespaces mode), `cth-<hash8>`.
  var bridge: String?
  /// False until the bridge is set up; an instance create finishes the job
  /// of a cthulhu that was killed half-way.
  var ready: Bool
  var createdAt: Date

  var fixture: String { spec.labels[Labels.fixture] ?? "" }
}

extension Labels {
  /// `loopback` or `namespaces`: how the process driver wires a fixture's
  /// network (set on the fixture network's labels by the Resolver).
  public static let networkMode = "io.cthulhu.network-mode"
}

import Foundation
import Manifest

/// The library face of cthulhu: plan, apply, destroy and inspect a fixture.
/// The CLI is a thin shell over it; a Swift test can call it directly, the
/// way Testcontainers is used from JUnit. The work is done by a part per
/// concern (``FixturePlanner``, ``ApplyEngine``, ``FaultInjector``,
/// ``InstanceControl``, ``NemesisRunner``, ``FixtureDestroyer``), each
/// reachable from here; this type keeps the status and passes the rest on.
public struct FixtureController: Sendable {
  public var driver: any Driver
  /// The binary the control shims and the detached helpers run; nil refuses
  /// whatever needs it (see ``CthulhuExecutable``).
  public var executable: CthulhuExecutable?

  public init(driver: any Driver, executable: CthulhuExecutable? = nil) {
    self.driver = driver
    self.executable = executable
  }

  /// A plan together with the resolved fixture it was made for.
  public struct PlannedChange: Sendable {
    public var plan: Plan
    public var desired: DesiredFixture
    public var observed: ObservedFixture
    public var manifest: Manifest
  }

  /// Live status of each instance of the fixture at `root`.
  public func status(root: String) async throws -> [InstanceStatus] {
    let state = try FixtureState.require(root: root)
    let live = try await driver.containers(fixture: state.fixture).byInstance()
    await driver.collectLogs(ids: state.instances.compactMap { live[$0.name]?.id })
    let faults = (try? FaultBook.load(root: root).faults) ?? []
    return state.instances.map { r in
      let c = live[r.name]
      return InstanceStatus(
        name: r.name, group: r.group, ip: r.ip, state: c?.state.rawValue ?? "missing", health: c?.health,
        containerID: c?.id, ports: c?.ports ?? r.ports, faults: faults.filter { $0.targets.contains(r.name) }.map(\.id),
        user: r.runAs?.short)
    }
  }
}

public struct InstanceStatus: Sendable, Codable, Hashable {
  public var name: String
  public var group: String
  public var ip: IPv4Address
  public var state: String
  public var health: String?
  public var containerID: String?
  public var ports: [PortBinding]
  /// Ids of the faults in force on this instance (`cthulhu faults` lists them).
  public var faults: [String] = []
  /// Who it runs as: `1000:1000(alice)`, or `user:` as written when the
  /// image resolves it; nil for the image's default user.
  public var user: String?
}

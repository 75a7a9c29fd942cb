import Foundation

/// What every part of the library works with: the engine's driver, and the
/// cthulhu binary the detached helpers and control shims run.
public protocol FixtureWork: Sendable {
  var driver: any Driver { get }
  /// nil refuses whatever needs it (see ``CthulhuExecutable``).
  var executable: CthulhuExecutable? { get }
}

/// A part of the library: made from the driver and the binary alone.
public protocol FixturePart: FixtureWork {
  init(driver: any Driver, executable: CthulhuExecutable?)
}

extension FixtureWork {
  /// Another part of the library, on the same driver and binary.
  func part<P: FixturePart>(_: P.Type = P.self) -> P { P(driver: driver, executable: executable) }

  /// The ``CthulhuExecutable`` this part was given, or the error that says
  /// `need` requires one. Callers ask before they change anything.
  public func requireExecutable(for need: String) throws -> CthulhuExecutable {
    guard let executable else {
      throw OrchestratorError(
        .noExecutable,
        "\(need) runs the cthulhu binary, and this FixtureController was made without one: make it with FixtureController(driver:executable:), giving CthulhuExecutable.locate() (cthulhu on PATH) or CthulhuExecutable(path:). Nothing was changed."
      )
    }
    return executable
  }
}

/// Faults: the fault book (`.cthulhu/faults.json`) and its lock, the rules
/// each instance's namespace holds, the packet delayers, clock skews, and
/// the reapers that lift a fault on time.
public struct FaultInjector: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }
}

/// Instances one at a time, between applies: start, stop, restart, kill,
/// pause, resume (their faults put back into fresh namespaces), exec, logs.
public struct InstanceControl: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }

  var faults: FaultInjector { part() }
}

/// The nemesis: a seeded schedule of faults and process actions, run by a
/// detached `_nemesis` helper or in process by `cthulhu test`, on top of
/// ``FaultInjector`` and ``InstanceControl``; its record, status and stop.
public struct NemesisRunner: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }

  var faults: FaultInjector { part() }
  var control: InstanceControl { part() }
  var engine: ApplyEngine { part() }
}

/// Destroy: exactly what the fixture made, found by its state or, without
/// one, by its labels; the helpers stopped first.
public struct FixtureDestroyer: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }

  var faults: FaultInjector { part() }
  var nemesis: NemesisRunner { part() }
}

/// Plan: resolve the manifest, observe the world once, diff the two; and
/// what a plan was made from (its basis), checked before it is applied.
public struct FixturePlanner: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }
}

/// Apply: the fixture lock, the rounds of the executor on the `StateStore`,
/// the fresh plans that repair what a round could not do, the post-start
/// truth, the faults put back, the index files and the time to live.
public struct ApplyEngine: FixturePart {
  public let driver: any Driver
  public let executable: CthulhuExecutable?
  public init(driver: any Driver, executable: CthulhuExecutable?) { (self.driver, self.executable) = (driver, executable) }

  var planner: FixturePlanner { part() }
  var faults: FaultInjector { part() }
}

import Foundation
import Manifest

/// The facade's other half: each part of the library by its concern, and
/// the calls of the parts that the CLI and library users make, passed on
/// unchanged (the work is in the part named).
extension FixtureController: FixtureWork {
  public var planner: FixturePlanner { part() }
  public var engine: ApplyEngine { part() }
  public var faults: FaultInjector { part() }
  public var control: InstanceControl { part() }
  public var nemesis: NemesisRunner { part() }
  public var destroyer: FixtureDestroyer { part() }

  public typealias ApplyResult = ApplyEngine.ApplyResult
  public typealias HealReport = FaultInjector.HealReport
  public typealias NemesisStatus = NemesisRunner.NemesisStatus
  public typealias NemesisStopReport = NemesisRunner.NemesisStopReport
  public typealias DestroyReport = FixtureDestroyer.DestroyReport

  // MARK: Plan and apply (FixturePlanner, ApplyEngine)

  /// Observes the world once and diffs it against the manifest. Changes nothing.
  public func plan(_ manifest: Manifest) async throws -> PlannedChange { try await planner.plan(manifest) }

  /// Converges the fixture to `planned` (see ``ApplyEngine/apply(_:options:observer:)``).
  public func apply(_ planned: PlannedChange, options: ApplyOptions = .init(), observer: (any ApplyObserver)? = nil) async throws
    -> ApplyResult
  {
    try await engine.apply(planned, options: options, observer: observer)
  }

  // MARK: Faults (FaultInjector)

  public func inject(
    _ request: FaultRequest, root: String, lasting: Duration? = nil, owner: String? = nil, delayPath: Fault.DelayPath? = nil
  ) async throws -> Fault {
    try await faults.inject(request, root: root, lasting: lasting, owner: owner, delayPath: delayPath)
  }

  @discardableResult
  public func heal(root: String, names: [String]? = nil) async throws -> HealReport { try await faults.heal(root: root, names: names) }

  @discardableResult
  public func resetClocks(root: String, names: [String]? = nil) async throws -> HealReport {
    try await faults.resetClocks(root: root, names: names)
  }

  @discardableResult
  public func lift(root: String, ids: [String], owner: String? = nil) async throws -> [Fault] {
    try await faults.lift(root: root, ids: ids, owner: owner)
  }

  @discardableResult
  public func liftExpired(root: String) async throws -> [Fault] { try await faults.liftExpired(root: root) }

  public func faults(root: String) throws -> [Fault] { try faults.faults(root: root) }

  public static func faultsInForce(root: String, executable: CthulhuExecutable) async throws -> [Fault] {
    try await FaultInjector.faultsInForce(root: root, executable: executable)
  }

  public func reapplyFaults(root: String, names: [String]) async throws { try await faults.reapplyFaults(root: root, names: names) }

  // MARK: Instances (InstanceControl)

  @discardableResult
  public func lifecycle(_ verb: LifecycleVerb, root: String, names: [String] = [], signal: String = "KILL") async throws -> [String] {
    try await control.lifecycle(verb, root: root, names: names, signal: signal)
  }

  /// See ``InstanceControl/syncDisks(root:names:mount:)``.
  public func syncDisks(root: String, names: [String], mount: String? = nil) async throws -> [InstanceControl.DiskSync] {
    try await control.syncDisks(root: root, names: names, mount: mount)
  }

  /// See ``InstanceControl/corruptDisks(root:names:mount:path:_:seed:)``.
  public func corruptDisks(
    root: String, names: [String], mount: String? = nil, path: String, _ kind: DiskCorruption.Kind, seed: UInt64
  ) async throws -> [InstanceControl.DiskCorruptionReport] {
    try await control.corruptDisks(root: root, names: names, mount: mount, path: path, kind, seed: seed)
  }

  /// See ``InstanceControl/diskStatus(root:names:mount:)``.
  public func diskStatus(root: String, names: [String]? = nil, mount: String? = nil) throws -> [InstanceControl.DiskLayerState] {
    try control.diskStatus(root: root, names: names, mount: mount)
  }

  /// See ``InstanceControl/crash(root:names:torn:seed:)``.
  public func crash(root: String, names: [String], torn: Bool, seed: UInt64) async throws -> [CrashReport] {
    try await control.crash(root: root, names: names, torn: torn, seed: seed)
  }

  public func exec(root: String, instance name: String, command: [String]) async throws -> ExecResult {
    try await control.exec(root: root, instance: name, command: command)
  }

  public func logs(
    root: String, names: [String], follow: Bool = false, since: Date? = nil
  ) throws -> AsyncThrowingStream<(instance: String, line: LogLine), any Error> {
    try control.logs(root: root, names: names, follow: follow, since: since)
  }

  // MARK: The nemesis (NemesisRunner)

  public func startNemesis(_ schedule: NemesisSchedule, root: String) async throws -> NemesisRecord {
    try await nemesis.startNemesis(schedule, root: root)
  }

  public func runNemesis(root: String, observer: (any NemesisObserver)? = nil, stopping: @Sendable () -> Bool) async throws {
    try await nemesis.runNemesis(root: root, observer: observer, stopping: stopping)
  }

  @discardableResult
  public func stopNemesis(root: String) async throws -> NemesisStopReport { try await nemesis.stopNemesis(root: root) }

  public static func nemesisStatus(root: String) throws -> NemesisStatus? { try NemesisRunner.nemesisStatus(root: root) }

  public func prepareNemesisHere(_ schedule: NemesisSchedule, root: String, workload: String) throws {
    try nemesis.prepareNemesisHere(schedule, root: root, workload: workload)
  }

  public static func nemesisHereWrites(runFolder: String, root: String) throws {
    try NemesisRunner.nemesisHereWrites(runFolder: runFolder, root: root)
  }

  public static func endNemesisHere(root: String) { NemesisRunner.endNemesisHere(root: root) }

  // MARK: Destroy (FixtureDestroyer)

  public func destroy(
    root: String, fixture: String? = nil, keepFiles: Bool = false, removeImages: Bool = false,
    progress: (@Sendable (_ removed: Int, _ of: Int) -> Void)? = nil
  ) async throws -> DestroyReport {
    try await destroyer.destroy(root: root, fixture: fixture, keepFiles: keepFiles, removeImages: removeImages, progress: progress)
  }

  public func roots(ofFixture fixture: String) async throws -> [String] { try await destroyer.roots(ofFixture: fixture) }

  public func destroyWhenDue(root: String, reaper: Int32, patience: Duration = .seconds(300)) async throws -> DestroyReport? {
    try await destroyer.destroyWhenDue(root: root, reaper: reaper, patience: patience)
  }
}

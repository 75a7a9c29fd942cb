import Foundation
import Manifest

/// The nemesis run inside the calling process, as `cthulhu test` runs it
/// during a workload: ``prepareNemesisHere(_:root:workload:)``, then the
/// same steps and heals as the detached `cthulhu _nemesis` of `nemesis
/// start` (``runNemesis(root:observer:stopping:)``), `stopNemesis(root:)` to
/// heal what it left (it signals no process: this one is not a `_nemesis`),
/// and ``endNemesisHere(root:)``. Meanwhile ``NemesisRunRecord`` tells the
/// other commands who drives it.
extension NemesisRunner {
  /// Checks `schedule` against the fixture as `nemesis start` does and
  /// records it, for ``runNemesis(root:observer:stopping:)`` to run here,
  /// driven by this process's run of `workload`. Refused while another
  /// nemesis runs or one left faults behind.
  public func prepareNemesisHere(_ schedule: NemesisSchedule, root: String, workload: String) throws {
    let state = try FixtureState.require(root: root)
    let lock = try FixtureLock(paths: FixturePaths(root: root), command: "test", file: "nemesis.lock", wait: .seconds(30))
    defer { lock.release() }
    try Self.refuseWhileANemesisHolds(root: root)
    let refs = try Self.nemesisInstances(schedule, state: state)
    try NemesisRecord(startedAt: Date(), schedule: schedule, instances: refs).save(root: root)
    try NemesisRunRecord(workload: workload).save(root: root)
  }

  /// Names the run's folder in the record of the nemesis this process drives.
  public static func nemesisHereWrites(runFolder: String, root: String) throws {
    guard var r = NemesisRunRecord.live(root: root), r.isMine else { return }
    r.folder = runFolder
    try r.save(root: root)
  }

  /// This process no longer drives the fixture's nemesis (call it once
  /// `stopNemesis(root:)` healed it, or when the run ends early).
  public static func endNemesisHere(root: String) {
    guard let r = NemesisRunRecord.live(root: root), r.isMine else { return }
    // A run that ended before its nemesis started (a client that would not
    // start, say) leaves it stopped, not "died".
    if var record = try? NemesisRecord.load(root: root), record.ended == nil, record.active.isEmpty, record.stepsDone == 0 {
      record.pid = nil
      record.next = nil
      record.ended = "stopped"
      record.endedAt = Date()
      try? record.save(root: root)
    }
    NemesisRunRecord.remove(root: root)
  }

  /// The fixture's instances for a nemesis; throws when a fault's targets
  /// name none of them, or too few.
  static func nemesisInstances(_ schedule: NemesisSchedule, state: FixtureState) throws -> [NemesisTimeline.InstanceRef] {
    let refs = state.instances.map { NemesisTimeline.InstanceRef(name: $0.name, group: $0.group) }
    let pairs = refs.map { ($0.name, $0.group) }
    for (i, f) in schedule.faults.enumerated() where f.targets.command == nil {  // a command chooses when it runs
      let at = f.location.line > 0 ? "\(f.location): " : ""
      switch f.targets.pool(in: pairs) {
      case .failure(let bad):
        throw OrchestratorError(
          .noInstance, "\(at)nemesis fault \(i + 1): '\(bad.word)' names no instance of fixture '\(state.fixture)'; apply the manifest first")
      case .success(let pool):
        let n = f.targets.random ?? pool.count
        guard n <= pool.count, n >= f.action.fewestTargets else {
          throw OrchestratorError(
            .badTargets,
            "\(at)nemesis fault \(i + 1) needs \(max(n, f.action.fewestTargets)) instances of '\(f.targets)', and fixture '\(state.fixture)' has \(pool.count)"
          )
        }
      }
    }
    return refs
  }

  /// Refuses while a nemesis runs on the fixture, or when the last one died
  /// leaving faults in force (`nemesis stop` heals them first).
  static func refuseWhileANemesisHolds(root: String) throws {
    if let run = NemesisRunRecord.live(root: root) {
      throw OrchestratorError(
        .locked,
        "a nemesis runs on this fixture in process, driven by \(run) since \(TimeText.wall(run.startedAt)): it is healed when that run ends; interrupt it (kill -INT \(run.pid)) to end it sooner"
      )
    }
    if let old = try NemesisRecord.load(root: root) {
      if let pid = old.pid, HelperProcess.isRunning(pid: pid, .nemesis, root: root) {
        throw OrchestratorError(
          .locked,
          "a nemesis already runs on this fixture (pid \(pid), since \(TimeText.clock(old.startedAt, milliseconds: false)) UTC): `cthulhu nemesis stop` first"
        )
      }
      let owned = try FaultBook.load(root: root).faults.filter { $0.owner == NemesisRecord.owner }
      if !old.active.isEmpty || !owned.isEmpty {
        let left = old.active.map(\.summary) + owned.filter { f in !old.active.contains { $0.faultID == f.id } }.map(\.summary)
        throw OrchestratorError(
          .unsupported,
          "the last nemesis ended without healing (was it killed?) and left in force: \(left.joined(separator: "; ")); run `cthulhu nemesis stop` to heal, then start again"
        )
      }
    }
  }
}

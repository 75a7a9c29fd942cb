import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// The record of a nemesis a `cthulhu test` drives in process: live while
/// its process runs, refusing another nemesis with the run named; stale
/// (ignored) once that process is gone, a zombie, or its PID another's.
final class NemesisRunRecordTests: XCTestCase {
  var root = ""

  override func setUp() async throws {
    root = try Harness.tempDir("nemesis-run")
    try FileManager.default.createDirectory(atPath: root + "/.cthulhu", withIntermediateDirectories: true)
  }
  override func tearDown() async throws { if !root.isEmpty { try? FileManager.default.removeItem(atPath: root) } }

  func testARecordOfThisProcessIsLiveAndRefusesAnotherNemesisNamingTheRun() throws {
    var r = NemesisRunRecord(workload: "appends")
    r.folder = root + "/runs/20261206T080000Z-appends"
    try r.save(root: root)
    let live = try XCTUnwrap(NemesisRunRecord.live(root: root))
    XCTAssertEqual(live.pid, getpid())
    XCTAssertTrue(live.isMine)
    XCTAssertThrowsError(try NemesisRunner.refuseWhileANemesisHolds(root: root)) { error in
      let e = error as? OrchestratorError
      XCTAssertEqual(e?.code, .locked)
      XCTAssertTrue(e?.message.contains("workload 'appends' (pid \(getpid()), run \(r.folder!))") == true, "\(error)")
    }
    NemesisRunRecord.remove(root: root)
    XCTAssertNil(NemesisRunRecord.live(root: root))
    XCTAssertNoThrow(try NemesisRunner.refuseWhileANemesisHolds(root: root))
  }

  func testARecordWhosePIDIsAnotherProcessNowIsStale() throws {
    var r = NemesisRunRecord(workload: "w")
    r.processStart += 1  // the same PID, started at another time: reused
    try r.save(root: root)
    XCTAssertNil(NemesisRunRecord.live(root: root))
    XCTAssertNoThrow(try NemesisRunner.refuseWhileANemesisHolds(root: root))
  }

  func testARecordOfAZombieOrADeadProcessIsStale() async throws {
    // A child that exited and is not reaped yet: a zombie, as an orphan is
    // until a late reaper gets to it.
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
    defer { argv.forEach { free($0) } }
    XCTAssertEqual(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ), 0)
    let deadline = ContinuousClock.now + .seconds(10)
    while ProcStat.read(pid)?.state != "Z", ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    XCTAssertEqual(ProcStat.read(pid)?.state, "Z", "the child did not exit within 10 s")
    var r = NemesisRunRecord(workload: "w")
    r.pid = pid
    r.processStart = try XCTUnwrap(ProcStat.read(pid)).startTime
    try r.save(root: root)
    XCTAssertNil(NemesisRunRecord.live(root: root), "a zombie is not alive")
    var status: Int32 = 0
    XCTAssertEqual(waitpid(pid, &status, 0), pid)
    XCTAssertNil(NemesisRunRecord.live(root: root), "nor a process gone")
  }

  /// `nemesis status` of a nemesis a run drives: running, and whose, until
  /// the run's process is gone; then died (it never ended its record).
  func testStatusSaysWhichRunDrivesItAndThatItDiedWhenThatRunIsGone() throws {
    let schedule = NemesisSchedule(seed: 3, faults: [NemesisFault(action: .kill(signal: "KILL"), lasting: .seconds(1))])
    var record = NemesisRecord(startedAt: Date(), schedule: schedule, instances: [.init(name: "i001", group: "node")])
    record.pid = getpid()  // as runNemesis records its own process
    try record.save(root: root)
    var run = NemesisRunRecord(workload: "appends")
    run.folder = root + "/runs/x-appends"
    try run.save(root: root)
    let live = try XCTUnwrap(try FixtureController.nemesisStatus(root: root))
    XCTAssertTrue(live.running)
    XCTAssertFalse(live.died)
    XCTAssertEqual(live.run?.pid, getpid())
    XCTAssertEqual(live.run?.workload, "appends")
    let json = try NemesisStatusReport.decode(Data(try NemesisStatusReport(live).json().utf8))
    XCTAssertEqual(json.state, "running")
    XCTAssertEqual(json.run?.workload, "appends")
    XCTAssertEqual(json.run?.folder, run.folder)
    run.processStart += 1  // its process gone, its PID another's
    try run.save(root: root)
    let gone = try XCTUnwrap(try FixtureController.nemesisStatus(root: root))
    XCTAssertFalse(gone.running, "this process is no _nemesis, and the run is gone")
    XCTAssertTrue(gone.died)
    XCTAssertNil(gone.run)
  }

  func testARunEndedBeforeItsNemesisStartedLeavesItStoppedAndTheRecordGone() throws {
    let schedule = NemesisSchedule(seed: 3, faults: [NemesisFault(action: .pause, lasting: .seconds(1))])
    try NemesisRecord(startedAt: Date(), schedule: schedule, instances: [.init(name: "i001", group: "node")]).save(root: root)
    try NemesisRunRecord(workload: "w").save(root: root)
    try FixtureController.nemesisHereWrites(runFolder: root + "/runs/x-w", root: root)
    XCTAssertEqual(NemesisRunRecord.live(root: root)?.folder, root + "/runs/x-w")
    FixtureController.endNemesisHere(root: root)
    XCTAssertFalse(FileManager.default.fileExists(atPath: NemesisRunRecord.path(root: root)))
    let status = try XCTUnwrap(try FixtureController.nemesisStatus(root: root))
    XCTAssertFalse(status.died, "it never ran")
    XCTAssertEqual(status.record.ended, "stopped")
  }
}

import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `cthulhu clock skew|reset` on host processes (loopback mode: the clock
/// needs no namespace): libfaketime preloaded into the instances of a
/// `clock_skew: true` group, their offset in `<ip>/clock/faketime`.
final class ClockSkewTests: FixtureTestCase {

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.require(ClockSkew.library() != nil, "libfaketime is not installed (apt-get install libfaketime)")
    try makeFolder("clk")
    try """
    fixture: \(fixture)
    driver: process
    groups:
      clocked:
        count: 2
        clock_skew: true
        command: ["/usr/bin/sleep", "infinity"]
        stop_timeout: 1s
      static:
        clock_skew: true
        command: ["\(Host.busybox)", "sleep", "1000"]
        stop_timeout: 1s
      plain:
        command: ["/usr/bin/sleep", "infinity"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
  }

  /// How far the instance's wall clock (GNU date inside it) is from this machine's, in seconds: the range it is in.
  func skew(_ name: String) throws -> ClosedRange<Double> {
    try Harness.clockOffset(name) { try cthulhu("exec", name, "--", "/usr/bin/date", "+%s.%N") }
  }

  /// Whether the instance's clock is `seconds` ahead (behind when negative).
  func isSkewed(_ name: String, by seconds: Double) throws -> Bool { try skew(name).contains(seconds) }

  func assertSkew(_ name: String, _ seconds: Double, _ why: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
    let r = try skew(name)
    XCTAssertTrue(r.contains(seconds), "\(name)'s clock is \(r) s off, not \(seconds) s. \(why)", file: file, line: line)
  }

  func testSkewMovesTheWallClockWhileItRunsAndResetSetsItBack() async throws {
    try assertSkew("i001", 0)
    XCTAssertEqual(try mustSucceed("clock", "skew", "+1h", "i001"), "f1: clock +1h i001\n")
    try assertSkew("i001", 3600)
    try assertSkew("i002", 0, "i002 was not skewed")
    // Negative, replacing the first; through the control script as a test would.
    let control = try Host.run(root + "/control", ["clock", "skew", "-90s", "i001"])
    XCTAssertEqual(control.status, 0, control.stderr)
    try assertSkew("i001", -90)
    let listed = try mustSucceed("faults")
    XCTAssertTrue(listed.contains("clock -90s i001"), listed)
    XCTAssertFalse(listed.contains("+1h"), "the second skew replaced the first: \(listed)")
    XCTAssertEqual(try mustSucceed("clock", "reset"), "clock reset; lifted f2\n")
    try assertSkew("i001", 0)
    XCTAssertEqual(try mustSucceed("faults"), "No faults.\n")
    // --for lifts it by itself. Long enough that a loaded machine still
    // reads the skew before it ends (a 1 s window was missed under CI load).
    try mustSucceed("clock", "skew", "+30s", "i002", "--for", "6s")
    try assertSkew("i002", 30)
    try await Host.eventually("the skew ends with its --for", within: 20) { try self.isSkewed("i002", by: 0) }
    // The reaper lifts the skew, then records the expiry: wait for the line.
    try await Host.eventually("the expiry is in events.jsonl", within: 10) {
      (try? String(contentsOfFile: self.root + "/events.jsonl", encoding: .utf8))?.contains("\"action\":\"expire f3\"") == true
    }
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    for wanted in ["\"action\":\"clock f1\"", "clock +1h i001", "\"action\":\"clock reset\"", "\"action\":\"expire f3\""] {
      XCTAssertTrue(events.contains(wanted), "no \(wanted) in events.jsonl")
    }
    // A restart keeps the skew (the file is in the instance folder).
    try mustSucceed("clock", "skew", "+2m", "i001")
    try mustSucceed("restart", "i001")
    try assertSkew("i001", 120)
    try mustSucceed("heal")
    try assertSkew("i001", 0, "heal sets clocks back too")
  }

  func testInstancesThatCannotBeSkewedAreRefusedAndNothingChanges() throws {
    let still = try cthulhu("clock", "skew", "+5s", "i003")
    XCTAssertNotEqual(still.status, 0)
    XCTAssertTrue(still.stderr.contains("i003: its program"), still.stderr)
    XCTAssertTrue(still.stderr.contains("statically linked"), still.stderr)
    let plain = try cthulhu("clock", "skew", "+5s", "i004")
    XCTAssertNotEqual(plain.status, 0)
    XCTAssertTrue(plain.stderr.contains("clock_skew: true"), plain.stderr)
    let bad = try cthulhu("clock", "skew", "soon", "i001")
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.stderr.contains("+5s"), bad.stderr)
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
    XCTAssertEqual(try mustSucceed("clock", "reset"), "No clock was skewed.\n")
  }

  func testAKilledInstanceLeavesNothingInDevShm() async throws {
    func ours() -> [String] {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
      return names.filter { $0.contains("cthulhu-faketime-") }
    }
    let before = Set(ours())
    let pid = try XCTUnwrap(Int32(String(contentsOfFile: root + "/i001/pid.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
    try mustSucceed("kill", "i001")
    try await Host.eventually("i001 exited", within: 10) { try self.mustSucceed("status").contains("exited") }
    // libfaketime's own pair would be named by the PID; cthulhu's is used instead.
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []
    XCTAssertFalse(names.contains("faketime_shm_\(pid)"), "libfaketime made its own shared memory: \(names)")
    XCTAssertFalse(before.isEmpty, "cthulhu made the pair for its clocked instances")
    try mustSucceed("destroy")
    XCTAssertTrue(Set(ours()).isDisjoint(with: before), "destroy removes the pairs: \(ours())")
  }
}

extension ClockSkewTests {
  /// A clock skew in the nemesis schedule: in force while the step lasts,
  /// lifted after it, its fault and heal in events.jsonl, and `nemesis stop`
  /// leaves no skew.
  func testTheNemesisMovesAClockAndSetsItBack() async throws {
    let manifest = try String(contentsOfFile: dir + "/cthulhu.yaml", encoding: .utf8)
    try
      (manifest + """
        nemesis:
          seed: 3
          faults:
            - clock: +1h
              targets: i001
              after: 200ms
              for: 2s

        """).write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let started = try mustSucceed("nemesis", "start")
    XCTAssertTrue(started.contains("clock +1h i001"), started)
    try await Host.eventually("i001's clock is an hour ahead", within: 10) { try self.isSkewed("i001", by: 3600) }
    try assertSkew("i002", 0, "only i001")
    try await Host.eventually("the step ends and the clock is back", within: 15) { try self.isSkewed("i001", by: 0) }
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"action\":\"nemesis fault 1.1\""), events)
    XCTAssertTrue(events.contains("\"action\":\"nemesis heal 1.1\""), events)
    try mustSucceed("nemesis", "stop")
    XCTAssertEqual(try mustSucceed("faults"), "No faults.\n")
  }
}

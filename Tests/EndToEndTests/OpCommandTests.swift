import Foundation
import History
import TestSupport
import XCTest

/// `cthulhu op` records one client call: invoke before, completion after.
final class OpCommandTests: XCTestCase {
  var dir = ""
  var history: String { dir + "/h.jsonl" }

  override func setUpWithError() throws { dir = try Harness.tempDir("op") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func op(_ args: [String], _ command: [String]) throws -> Run {
    try Harness.cthulhu(["op", "--history", history] + args + ["--"] + command)
  }

  func events() throws -> [HistoryEvent] { try HistoryParser.parse(contentsOf: history) }

  func testOutcomesAndTheirExitCodes() throws {
    XCTAssertEqual(try op(["--process", "1", "--f", "write", "--value", "7"], ["true"]).status, 0)
    let read = try op(["--process", "1", "--f", "read"], ["/bin/sh", "-c", "echo 7"])
    XCTAssertEqual(read.status, 0)
    XCTAssertEqual(read.stdout, "7\n", "the client's output still reaches the test")
    let failed = try op(["--process", "2", "--f", "cas", "--value", "[7,8]", "--fail-codes", "1,2"], ["false"])
    XCTAssertEqual(failed.status, 1)
    XCTAssertEqual(failed.stderr, "cthulhu op: false exited with 1: recorded as fail (did not happen)\n")
    let crashed = try op(["--process", "3", "--f", "write", "--value", "9"], ["/bin/sh", "-c", "exit 3"])
    XCTAssertEqual(crashed.status, 3)
    let missing = try op(["--process", "4", "--f", "write", "--value", "1"], ["no-such-client"])
    XCTAssertEqual(missing.status, 127)
    XCTAssertEqual(missing.stderr, "cthulhu op: cannot run no-such-client: No such file or directory; recorded as fail (it never ran)\n")

    let e = try events()
    XCTAssertEqual(
      e.map { "\($0.process) \($0.type.rawValue) \($0.f) \($0.value.json)" },
      [
        "1 invoke write 7", "1 ok write 7", "1 invoke read null", "1 ok read 7", "2 invoke cas [7,8]", "2 fail cas [7,8]",
        "3 invoke write 9", "3 info write 9", "4 invoke write 1", "4 fail write 1",
      ])
    let times = e.compactMap(\.time)
    XCTAssertEqual(times.count, e.count, "every event has its CLOCK_MONOTONIC time")
    XCTAssertEqual(times, times.sorted())
    XCTAssertEqual(try Harness.cthulhu(["check", history]).status, 0)
  }

  func testTimeoutRecordsInfoAndKillsTheWholeCall() throws {
    let started = Date()
    let r = try op(["--process", "1", "--f", "write", "--value", "1", "--timeout", "300ms"], ["/bin/sh", "-c", "sleep 30 & sleep 30; echo late"])
    XCTAssertEqual(r.status, 124)
    XCTAssertLessThan(Date().timeIntervalSince(started), 10, "the call and its children were killed")
    XCTAssertEqual(try events().last?.type, .info)
  }

  func testKVValuesAreText() throws {
    XCTAssertEqual(try op(["--process", "0", "--f", "append", "--key", "k", "--value", "7"], ["true"]).status, 0)
    XCTAssertEqual(try op(["--process", "0", "--f", "get", "--key", "k"], ["echo", "7"]).status, 0)
    XCTAssertEqual(try events().map(\.value), [.string("7"), .string("7"), .null, .string("7")])
    XCTAssertEqual(try Harness.cthulhu(["check", history]).status, 0)
  }

  /// A register read that prints nothing read nothing: `null`, the value
  /// before any write, so the history checks (it was `""`, a violation).
  /// A kv get keeps its empty text: a key starts as `""`.
  func testAReadOfNothingIsNullForARegisterAndEmptyTextForKV() throws {
    XCTAssertEqual(try op(["--process", "0", "--f", "read"], ["/bin/sh", "-c", "echo"]).status, 0)
    XCTAssertEqual(try op(["--process", "0", "--f", "write", "--value", "3"], ["true"]).status, 0)
    XCTAssertEqual(try op(["--process", "0", "--f", "read"], ["echo", "3"]).status, 0)
    XCTAssertEqual(try events().map(\.value), [.null, .null, .int(3), .int(3), .null, .int(3)])
    XCTAssertEqual(try Harness.cthulhu(["check", "--model", "register", history]).status, 0)
    try FileManager.default.removeItem(atPath: history)
    XCTAssertEqual(try op(["--process", "0", "--f", "get", "--key", "k"], ["true"]).status, 0)
    XCTAssertEqual(try events().map(\.value), [.null, .string("")])
    XCTAssertEqual(try Harness.cthulhu(["check", history]).status, 0)
  }

  func testConcurrentRecordersNeverInterleaveALine() throws {
    let script =
      (0..<16).map { p in
        "\(Harness.binary) op --history \(history) --process \(p) --f write --value \(p) -- /bin/sh -c 'sleep 0.0$((\(p) % 5))' &"
      }.joined(separator: "\n") + "\nwait\n"
    XCTAssertEqual(try Harness.run("/bin/sh", ["-c", script]).status, 0)
    let e = try events()
    XCTAssertEqual(e.count, 32)
    XCTAssertEqual(Set(e.filter { $0.type == .ok }.map(\.process)), Set(0..<16))
    XCTAssertEqual(try History(events: e).operations.count, 16)
  }

  func testMistakesAreOneSentence() throws {
    XCTAssertTrue(
      try Harness.cthulhu(["op", "--history", history, "--process", "1", "--f", "read"]).stderr.contains("Please give the client call after --"))
    XCTAssertTrue(try op(["--process", "1", "--f", "read", "--fail-codes", "x"], ["true"]).stderr.contains("--fail-codes takes exit codes"))
    let r = try Harness.cthulhu(["op", "--fixture", dir + "/none", "--process", "1", "--f", "read", "--", "true"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderr, "error: no fixture at \(dir)/none: apply one first, or record elsewhere with --history FILE\n")
  }
}

import Foundation
import History
import TestSupport
import XCTest

@testable import Runner

/// Every model of `cthulhu check` in a run: set-full's lost elements, bank's
/// total from the workload, counter, list-append; the checker's JSON in
/// results.json and its explanation in report.html; a recheck by another model.
final class RunCheckerTests: XCTestCase {
  var dir = ""

  override func setUp() async throws { dir = try Harness.tempDir("run-checker") }
  override func tearDown() async throws { if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) } }

  /// A run folder holding `events` (process, type, f, value as JSON), one millisecond apart.
  func run(_ events: [(Int, String, String, String)]) throws -> RunFolder {
    let f = try RunFolder.create(root: dir, workload: "w", time: Date(timeIntervalSince1970: 1_800_000_000))
    let lines = events.enumerated().map { i, e in
      #"{"process": \#(e.0), "type": "\#(e.1)", "f": "\#(e.2)", "value": \#(e.3), "time": \#((i + 1) * 1_000_000)}"#
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: f.history, atomically: true, encoding: .utf8)
    return f
  }

  func conclude(_ f: RunFolder, model: String, total: Int64? = nil) throws -> RunResults {
    try TestRun.conclude(
      folder: f, workload: "w", model: model, total: total, seed: 1, started: Date(), interrupted: false, faults: [], problems: []
    ).1
  }

  func checker(_ f: RunFolder) throws -> [String: Any] {
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.results))) as! [String: Any]
    return try XCTUnwrap(json["checker"] as? [String: Any])
  }

  /// Three acknowledged adds; the final read lacks 1.
  let lostOne: [(Int, String, String, String)] = [
    (0, "invoke", "add", "0"), (0, "ok", "add", "0"), (1, "invoke", "add", "1"), (1, "ok", "add", "1"),
    (0, "invoke", "add", "2"), (0, "ok", "add", "2"), (2, "invoke", "read", "null"), (2, "ok", "read", "[0, 2]"),
  ]

  func testSetFullCountsTheLostElementAndTheReportExplainsIt() throws {
    let f = try run(lostOne)
    let r = try conclude(f, model: "set-full")
    XCTAssertEqual(r.valid, .invalid)
    XCTAssertEqual(r.exitCode, 2)
    let c = try checker(f)
    XCTAssertEqual(c["valid"] as? Bool, false)
    XCTAssertEqual(c["model"] as? String, "set-full")
    XCTAssertEqual(c["lostCount"] as? Int, 1)
    XCTAssertEqual(c["lost"] as? [Int], [1])
    XCTAssertEqual(c["stableCount"] as? Int, 2)
    let page = try String(contentsOfFile: f.report, encoding: .utf8)
    XCTAssertTrue(page.contains(#"<pre class="explanation" id="explanation">Lost: 1"#), page)
    XCTAssertTrue(page.contains("3 attempted, 2 stable, 0 stale, 1 lost"), page)
  }

  func testSetFindsTheSameLossAndAWholeReadIsValid() throws {
    XCTAssertEqual(try conclude(try run(lostOne), model: "set").valid, .invalid)
    var whole = lostOne
    whole[7] = (2, "ok", "read", "[0, 1, 2]")
    XCTAssertEqual(try conclude(try run(whole), model: "set-full").valid, .valid)
    XCTAssertEqual(try conclude(try run(whole), model: "set").valid, .valid)
  }

  func testBankIsCheckedAgainstTheWorkloadsTotal() throws {
    let events: [(Int, String, String, String)] = [
      (0, "invoke", "transfer", #"{"from": 0, "to": 1, "amount": 3}"#), (0, "ok", "transfer", #"{"from": 0, "to": 1, "amount": 3}"#),
      (1, "invoke", "read", "null"), (1, "ok", "read", #"{"0": 7, "1": 13}"#),
    ]
    // The reads agree with each other, but the accounts started with 30 in all.
    XCTAssertEqual(try conclude(try run(events), model: "bank").valid, .valid)
    let f = try run(events)
    XCTAssertEqual(try conclude(f, model: "bank", total: 30).valid, .invalid)
    XCTAssertEqual(try checker(f)["total"] as? Int, 30)
    // A recheck keeps the run's total.
    let (_, again) = try Recheck.run(f.path)
    XCTAssertEqual(again.valid, .invalid)
  }

  func testCounterAndListAppendGiveRealVerdicts() throws {
    let counter: [(Int, String, String, String)] = [
      (0, "invoke", "add", "2"), (0, "ok", "add", "2"), (1, "invoke", "read", "null"), (1, "ok", "read", "9"),
    ]
    XCTAssertEqual(try conclude(try run(counter), model: "counter").valid, .invalid)
    let appends: [(Int, String, String, String)] = [
      (0, "invoke", "txn", #"[["append", 1, 1]]"#), (0, "ok", "txn", #"[["append", 1, 1]]"#),
      (1, "invoke", "txn", #"[["append", 1, 2], ["r", 1, null]]"#), (1, "ok", "txn", #"[["append", 1, 2], ["r", 1, [1, 2]]]"#),
      (2, "invoke", "txn", #"[["r", 1, null]]"#), (2, "ok", "txn", #"[["r", 1, [1, 2]]]"#),
    ]
    let f = try run(appends)
    XCTAssertEqual(try conclude(f, model: "list-append").valid, .valid)
    XCTAssertEqual(try checker(f)["model"] as? String, "list-append")
    XCTAssertEqual(try conclude(try run(appends), model: "no-such-model").valid, .unknown)
  }

  func testARegisterViolationKeepsItsOperationsForTheReport() throws {
    let f = try run([
      (0, "invoke", "write", "1"), (0, "ok", "write", "1"), (1, "invoke", "read", "null"), (1, "ok", "read", "5"),
    ])
    XCTAssertEqual(try conclude(f, model: "register").valid, .invalid)
    let c = try checker(f)
    XCTAssertEqual(c["verdict"] as? String, "not linearizable")
    let violation = try XCTUnwrap(c["violation"] as? [String: Any])
    XCTAssertEqual((violation["blocked"] as? [String: Any])?["f"] as? String, "read")
    XCTAssertTrue(try String(contentsOfFile: f.report, encoding: .utf8).contains(#"id="violation""#))
  }
}

import Foundation
import History
import TestSupport
import XCTest

@testable import Runner

/// The run folder: never overwritten, `latest`, results.json and junit.xml
/// from a history, the exit codes, and a recheck that leaves the run alone.
final class RunResultsTests: XCTestCase {
  var dir = ""

  override func setUp() async throws { dir = try Harness.tempDir("run-results") }
  override func tearDown() async throws { if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) } }

  func folder(with lines: [String]) throws -> RunFolder {
    let f = try RunFolder.create(root: dir, workload: "w", time: Date(timeIntervalSince1970: 1_800_000_000))
    try (lines.joined(separator: "\n") + "\n").write(toFile: f.history, atomically: true, encoding: .utf8)
    return f
  }

  let good = [
    #"{"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 1000000}"#,
    #"{"process": 0, "type": "ok", "f": "write", "value": 1, "time": 3000000}"#,
    #"{"process": 1, "type": "invoke", "f": "read", "value": null, "time": 4000000}"#,
    #"{"process": 1, "type": "ok", "f": "read", "value": 1, "time": 5000000}"#,
    #"{"process": 2, "type": "invoke", "f": "write", "value": 2, "time": 6000000}"#,
    #"{"process": 2, "type": "info", "f": "write", "value": 2, "time": 9000000}"#,
  ]

  func testFoldersAreNeverReusedAndLatestLinksTheNewest() throws {
    let a = try RunFolder.create(root: dir, workload: "w", time: Date(timeIntervalSince1970: 1_800_000_000))
    let b = try RunFolder.create(root: dir, workload: "w", time: Date(timeIntervalSince1970: 1_800_000_000))
    XCTAssertNotEqual(a.path, b.path)
    XCTAssertTrue(a.path.hasSuffix("/runs/20270115T080000Z-w"), a.path)
    XCTAssertTrue(b.path.hasSuffix("-w-2"), b.path)
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/runs/latest"), "20270115T080000Z-w-2")
    XCTAssertEqual(RunFolder.all(root: dir).map(\.path), [a.path, b.path])
  }

  func testAValidHistoryGivesResultsJunitAndExitZero() throws {
    let f = try folder(with: good)
    let (_, r) = try TestRun.conclude(
      folder: f, workload: "w", model: "register", seed: 7, started: Date(), interrupted: false,
      faults: [.init(name: "partition", start: 1, end: 2)], problems: [])
    XCTAssertEqual(r.valid, .valid)
    XCTAssertEqual(r.exitCode, 0)
    XCTAssertEqual(r.counts["write"], .init(ok: 1, fail: 0, info: 1))
    XCTAssertEqual(r.latency["write"]?.max, 2)
    XCTAssertEqual(r.latency["read"]?.p50, 1)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.results))) as! [String: Any]
    XCTAssertEqual(json["valid"] as? Bool, true)
    XCTAssertEqual(json["formatVersion"] as? Int, 1)
    XCTAssertEqual(json["seed"] as? Int, 7)
    XCTAssertEqual((json["faults"] as? [[String: Any]])?.first?["name"] as? String, "partition")
    XCTAssertEqual((json["checker"] as? [String: Any])?["verdict"] as? String, "linearizable")
    XCTAssertTrue((json["startedAt"] as? String)?.hasSuffix("Z") == true)
    let junit = try String(contentsOfFile: f.junit, encoding: .utf8)
    XCTAssertTrue(junit.contains(#"tests="1" failures="0" errors="0""#), junit)
    let back = try XCTUnwrap(try f.loadResults())
    XCTAssertEqual(back.counts, r.counts)
    XCTAssertEqual(back.checker, r.checker)
    XCTAssertEqual(back.startedAt.timeIntervalSince1970, r.startedAt.timeIntervalSince1970, accuracy: 1, "ISO-8601 to the second")
  }

  func testAStaleReadIsInvalidWithExitTwoAndAFailedTestCase() throws {
    var lines = good
    lines[3] = #"{"process": 1, "type": "ok", "f": "read", "value": 5, "time": 5000000}"#
    let (_, r) = try TestRun.conclude(
      folder: try folder(with: lines), workload: "w", model: "register", seed: 1, started: Date(), interrupted: false, faults: [],
      problems: [])
    XCTAssertEqual(r.valid, .invalid)
    XCTAssertEqual(r.exitCode, 2)
    let junit = try String(contentsOfFile: dir + "/runs/latest/junit.xml", encoding: .utf8)
    XCTAssertTrue(junit.contains("<failure"), junit)
  }

  func testAModelWithoutACheckerIsUnknownWithExitOneAndSaysWhy() throws {
    let (_, r) = try TestRun.conclude(
      folder: try folder(with: good), workload: "w", model: "no-such-model", seed: 1, started: Date(), interrupted: false, faults: [],
      problems: [])
    XCTAssertEqual(r.valid, .unknown)
    XCTAssertEqual(r.exitCode, 1)
    XCTAssertTrue(r.problems.joined().contains("no checker for model 'no-such-model'"), "\(r.problems)")
  }

  func testARecheckWritesBesideTheRunAndLeavesItsResults() throws {
    let f = try folder(with: good)
    let (_, first) = try TestRun.conclude(
      folder: f, workload: "w", model: "register", seed: 3, started: Date(), clock: 500_000, interrupted: false, faults: [], problems: [])
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: f.results))) as! [String: Any]
    XCTAssertEqual(json["monotonicStartNs"] as? Int, 500_000, "the history's clock at the start, for the report's time axis")
    let before = try Data(contentsOf: URL(fileURLWithPath: f.results))
    let (out, again) = try Recheck.run(f.path, model: "cas-register")
    XCTAssertEqual(again.model, "cas-register")
    XCTAssertEqual(again.seed, first.seed)
    XCTAssertEqual(again.monotonicStartNs, 500_000)
    XCTAssertTrue(out.path.hasPrefix(f.path + "/rechecks/"), out.path)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out.results))
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: f.results)), before)
  }

  func testValidityIsTrueFalseOrUnknownInJSON() throws {
    let enc = JSONEncoder()
    XCTAssertEqual(String(decoding: try enc.encode([Validity.valid, .invalid, .unknown]), as: UTF8.self), #"[true,false,"unknown"]"#)
    XCTAssertEqual(try JSONDecoder().decode([Validity].self, from: Data(#"[true,false,"unknown"]"#.utf8)), [.valid, .invalid, .unknown])
    XCTAssertEqual(Validity.valid.and(.unknown), .unknown)
    XCTAssertEqual(Validity.unknown.and(.invalid), .invalid)
  }
}

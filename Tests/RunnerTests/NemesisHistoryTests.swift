import Foundation
import History
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator
@testable import Runner

/// The nemesis's steps in a run's history.jsonl (operations of the process
/// `"nemesis"`, on the clients' clock), the fault periods of results.json
/// made from the same completions, and every checker reading past them.
final class NemesisHistoryTests: XCTestCase {
  var dir = ""

  override func setUp() async throws { dir = try Harness.tempDir("nemesis-history") }
  override func tearDown() async throws { if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) } }

  let partition = NemesisStepStart(
    label: "1.1", phase: .fault, action: .partition(.majority), targets: ["i001", "i002", "i003"],
    summary: "partition (majority) {i001,i002} | {i003}")
  let kill = NemesisStepStart(label: "2.1", phase: .fault, action: .kill(signal: "KILL"), targets: ["i002"], summary: "kill i002")

  func lines(_ path: String) throws -> [[String: Any]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
      try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  func testEachStepIsAnInvokeAndACompletionOnTheClientsClockAndTheFaultsComeFromThem() throws {
    let path = dir + "/history.jsonl"
    let history = try HistoryWriter(path: path)
    let origin = HistoryEvent.monotonicNow()
    let ops = NemesisHistory(history: history, origin: origin)
    let write = Invocation(f: "write", value: .int(1))
    history.append(process: 0, type: .invoke, op: write, value: .int(1))
    ops.nemesisStepStarts(partition)
    ops.nemesisStepEnded(.init(step: partition, outcome: .ok, targets: partition.targets, faultID: "f1", summary: "f1 partition majority"))
    history.append(process: 0, type: .ok, op: write, value: .int(1))
    ops.nemesisStepStarts(kill)
    ops.nemesisStepEnded(.init(step: kill, outcome: .failed("i002 is not running"), targets: ["i002"], summary: "kill i002"))
    var heal = partition
    heal.phase = .heal
    heal.summary = "heal partition (majority)"
    ops.nemesisStepStarts(heal)
    ops.nemesisStepEnded(.init(step: heal, outcome: .ok, targets: heal.targets, faultID: "f1", summary: heal.summary))
    // A second partition, healed by the stop at the end of the run.
    var again = partition
    again.label = "1.2"
    ops.nemesisStepStarts(again)
    ops.nemesisStepEnded(.init(step: again, outcome: .ok, targets: again.targets, faultID: "f2", summary: "f2 partition majority"))
    ops.stopStarts()
    ops.stopEnded(.success(.init(wasRunning: false, lifted: [], restored: ["i002"], failures: [])))
    try history.flush()

    let all = try lines(path)
    let nemesis = all.filter { $0["process"] as? String == "nemesis" }
    XCTAssertEqual(nemesis.count, 10)
    XCTAssertEqual(nemesis.map { $0["type"] as? String }, ["invoke", "ok", "invoke", "info", "invoke", "ok", "invoke", "ok", "invoke", "ok"])
    XCTAssertEqual(
      nemesis.map { $0["f"] as? String }, ["partition", "partition", "kill", "kill", "heal", "heal", "partition", "partition", "heal", "heal"])
    let started = try XCTUnwrap(nemesis[0]["value"] as? [String: Any])
    XCTAssertEqual(started["label"] as? String, "1.1")
    XCTAssertEqual(started["kind"] as? String, "partition")
    XCTAssertEqual(started["shape"] as? String, "majority")
    XCTAssertEqual(started["targets"] as? [String], ["i001", "i002", "i003"])
    XCTAssertNil(started["faultID"], "not made yet")
    XCTAssertEqual((nemesis[1]["value"] as? [String: Any])?["faultID"] as? String, "f1")
    let failed = try XCTUnwrap(nemesis[3]["value"] as? [String: Any])
    XCTAssertEqual(failed["error"] as? String, "i002 is not running")
    XCTAssertEqual(failed["signal"] as? String, "KILL")
    XCTAssertEqual((nemesis[5]["value"] as? [String: Any])?["kind"] as? String, "partition", "a heal says what it heals")
    XCTAssertEqual((nemesis[9]["value"] as? [String: Any])?["restored"] as? [String], ["i002"])
    XCTAssertEqual((nemesis[9]["value"] as? [String: Any])?["label"] as? String, "stop")
    // One clock, in the file's order.
    let times = all.map { ($0["time"] as? NSNumber)?.uint64Value ?? 0 }
    XCTAssertEqual(times, times.sorted())
    XCTAssertGreaterThanOrEqual(times.first ?? 0, origin)
    XCTAssertEqual(all[2]["process"] as? Int, 0, "the client's completion between the partition and the kill")

    // The faults: from each ok to its heal's ok, in seconds from origin; the failed kill is none.
    let seconds = { (i: Int) in ((Double((nemesis[i]["time"] as? NSNumber)?.uint64Value ?? 0) - Double(origin)) / 1e6).rounded() / 1000 }
    XCTAssertEqual(
      ops.faults,
      [
        .init(name: "f1 partition majority", start: seconds(1), end: seconds(5)),
        .init(name: "f2 partition majority", start: seconds(7), end: seconds(9)),
      ])
  }

  func testAStopThatFailsLeavesItsFaultsInForceToTheEnd() throws {
    let history = try HistoryWriter(path: dir + "/history.jsonl")
    let ops = NemesisHistory(history: history, origin: HistoryEvent.monotonicNow())
    ops.nemesisStepStarts(partition)
    ops.nemesisStepEnded(.init(step: partition, outcome: .ok, targets: partition.targets, faultID: "f1", summary: "f1 partition"))
    ops.stopStarts()
    ops.stopEnded(.failure(OrchestratorError(.io, "nft: no such table")))
    try history.flush()
    XCTAssertEqual(ops.faults.count, 1)
    XCTAssertNil(ops.faults.first?.end, "never healed within the run")
    let last = try XCTUnwrap(try lines(dir + "/history.jsonl").last)
    XCTAssertEqual(last["type"] as? String, "info")
    XCTAssertTrue(((last["value"] as? [String: Any])?["error"] as? String)?.contains("no such table") == true, "\(last)")
  }

  /// Every model of `cthulhu check` gives the same verdict, word for word,
  /// with the nemesis's lines among the clients' as without them.
  func testEveryCheckerReadsPastTheNemesisLines() throws {
    let clients = [
      #"{"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 1000000}"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": 1, "time": 3000000}"#,
      #"{"process": 1, "type": "invoke", "f": "read", "value": null, "time": 4000000}"#,
      #"{"process": 1, "type": "ok", "f": "read", "value": 1, "time": 5000000}"#,
    ]
    let nemesis = [
      #"{"process": "nemesis", "type": "invoke", "f": "partition", "value": {"label": "1.1", "kind": "partition", "targets": ["i001"]}, "time": 2000000}"#,
      #"{"process": "nemesis", "type": "ok", "f": "partition", "value": {"label": "1.1", "faultID": "f1"}, "time": 2500000}"#,
      #"{"process": "nemesis", "type": "invoke", "f": "heal", "value": {"label": "stop"}, "time": 6000000}"#,
      #"{"process": "nemesis", "type": "info", "f": "heal", "value": {"label": "stop", "error": "x"}, "time": 7000000}"#,
    ]
    let plain = dir + "/plain.jsonl"
    let mixed = dir + "/mixed.jsonl"
    try (clients.joined(separator: "\n") + "\n").write(toFile: plain, atomically: true, encoding: .utf8)
    let interleaved = [clients[0], nemesis[0], nemesis[1], clients[1], clients[2], clients[3], nemesis[2], nemesis[3]]
    try (interleaved.joined(separator: "\n") + "\n").write(toFile: mixed, atomically: true, encoding: .utf8)
    XCTAssertEqual(try History(contentsOf: mixed).operations.count, 2)
    XCTAssertFalse(RunChecker.models.isEmpty)
    for model in RunChecker.models {
      let a = RunChecker.check(history: plain, model: model)
      let b = RunChecker.check(history: mixed, model: model)
      XCTAssertEqual(a.valid, b.valid, model)
      XCTAssertEqual(a.json, b.json, model)
      XCTAssertEqual(a.problem, b.problem, model)
    }
    XCTAssertEqual(RunChecker.check(history: mixed, model: "register").valid, .valid)
    // The report's lanes hold the clients' operations only.
    let events = try HistoryParser.parse(contentsOf: mixed)
    XCTAssertEqual(RunData(results: .object([:]), events: events).operations.map(\.process), [0, 1])
  }
}

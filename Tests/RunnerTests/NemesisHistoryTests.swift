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
    XCTAssertEqual(all[3]["process"] as? Int, 0, "the client's completion between the partition and the kill")

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

  /// A valid history of each model of `cthulhu check`: invoke and completion pairs of (process, f, value).
  static let valid: [String: [(Int, String, String)]] = [
    "register": [(0, "write", "1"), (1, "read", "1")],
    "cas-register": [(0, "write", "1"), (1, "cas", "[1, 2]")],
    "kv": [(0, "put", #""a""#), (1, "get", #""a""#)],
    "mutex": [(0, "acquire", "null"), (0, "release", "null")],
    "multi-register": [(0, "txn", #"[["w", "x", 1]]"#), (1, "txn", #"[["r", "x", 1]]"#)],
    "set": [(0, "add", "1"), (1, "read", "[1]")],
    "set-full": [(0, "add", "1"), (1, "read", "[1]")],
    "counter": [(0, "add", "1"), (1, "read", "1")],
    "bank": [(0, "read", #"{"0": 10, "1": 10}"#), (1, "transfer", #"{"from": 0, "to": 1, "amount": 5}"#), (0, "read", #"{"0": 5, "1": 15}"#)],
    "long-fork": [(0, "txn", #"[["w", 1, 1]]"#), (1, "txn", #"[["r", 1, 1], ["r", 2, null]]"#)],
    "list-append": [(0, "txn", #"[["append", 1, 1]]"#), (1, "txn", #"[["r", 1, [1]]]"#)],
    "rw-register": [(0, "txn", #"[["w", 1, 1]]"#), (1, "txn", #"[["r", 1, 1]]"#)],
  ]

  /// Every model of `cthulhu check` finds its valid history valid with the
  /// nemesis's lines among the clients' (a checker that read them would
  /// say unknown: `"process": "nemesis"` is no client's number).
  func testEveryCheckerReadsPastTheNemesisLines() throws {
    let nemesis = [
      #"{"process": "nemesis", "type": "invoke", "f": "partition", "value": {"label": "1.1", "kind": "partition", "targets": ["i001"]}, "time": 1500000}"#,
      #"{"process": "nemesis", "type": "ok", "f": "partition", "value": {"label": "1.1", "faultID": "f1"}, "time": 1600000}"#,
      #"{"process": "nemesis", "type": "invoke", "f": "heal", "value": {"label": "stop"}, "time": 9000000}"#,
      #"{"process": "nemesis", "type": "info", "f": "heal", "value": {"label": "stop", "error": "x"}, "time": 9500000}"#,
    ]
    XCTAssertEqual(Set(RunChecker.models), Set(Self.valid.keys), "a model without a history here")
    for (model, ops) in Self.valid.sorted(by: { $0.key < $1.key }) {
      var lines = [nemesis[0]]
      for (i, op) in ops.enumerated() {
        // The read's invoke carries no value; a txn's and a transfer's carry theirs.
        let argument = op.1 == "read" || op.1 == "get" ? "null" : op.2
        lines.append(
          #"{"process": \#(op.0), "type": "invoke", "f": "\#(op.1)", "key": "k", "value": \#(argument), "time": \#(2_000_000 + i * 2_000_000)}"#)
        if i == 0 { lines.append(nemesis[1]) }
        lines.append(#"{"process": \#(op.0), "type": "ok", "f": "\#(op.1)", "key": "k", "value": \#(op.2), "time": \#(3_000_000 + i * 2_000_000)}"#)
      }
      lines += nemesis[2...]
      let path = dir + "/\(model).jsonl"
      try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
      XCTAssertEqual(try History(contentsOf: path).operations.count, ops.count, model)
      let outcome = RunChecker.check(history: path, model: model)
      XCTAssertEqual(outcome.valid, .valid, "\(model): \(outcome.json.json)")
    }
    // The report's lanes hold the clients' operations only.
    let events = try HistoryParser.parse(contentsOf: dir + "/register.jsonl")
    XCTAssertEqual(RunData(results: .object([:]), events: events).operations.map(\.process), [0, 1])
  }
}

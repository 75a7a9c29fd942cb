import Foundation
import History
import Manifest
import TestSupport
import XCTest

@testable import Runner

/// The JSON Lines protocol with a client process, as a worker speaks it:
/// ok, fail and info replies; no reply in time, a crash and a reply that
/// is not one are info, and the client is started again under a new
/// process number.
final class ClientProtocolTests: XCTestCase {
  var dir = ""

  override func setUp() async throws {
    dir = try Harness.tempDir("client-protocol")
    try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
    // Answers by `f`: ok with a value, fail, info, silence, exit, garbage.
    let client = """
      #!/usr/bin/env python3
      import json, os, sys, time
      print("started as process", os.environ["CTHULHU_PROCESS"], file=sys.stderr, flush=True)
      for line in sys.stdin:
          op = json.loads(line)
          f = op["f"]
          if f == "read":
              print(json.dumps({"type": "ok", "value": [int(os.environ["CTHULHU_PROCESS"]), op.get("key")]}), flush=True)
          elif f == "write":
              print(json.dumps({"type": "ok"}), flush=True)
          elif f == "nope":
              print(json.dumps({"type": "fail", "error": "refused"}), flush=True)
          elif f == "maybe":
              print(json.dumps({"type": "info", "error": "lost the leader"}), flush=True)
          elif f == "hang":
              time.sleep(30)
          elif f == "crash":
              sys.exit(3)
          else:
              print("what?", flush=True)
      """
    try client.write(toFile: dir + "/client.py", atomically: true, encoding: .utf8)
    chmod(dir + "/client.py", 0o755)
  }

  override func tearDown() async throws {
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  func worker(_ client: WorkloadClient, concurrency: Int = 4) -> Worker {
    Worker(
      index: 1,
      setup: .init(
        client: client, directory: dir, environment: ["CTHULHU_FIXTURE": dir], timeout: .seconds(2), concurrency: concurrency,
        logs: dir + "/logs"))
  }

  func events() throws -> [HistoryEvent] { try HistoryParser.parse(contentsOf: dir + "/history.jsonl") }

  func testRepliesBecomeCompletionsAndUnknownOutcomesRestartTheClientAsANewProcess() throws {
    let w = worker(.process(command: ["./client.py"]))
    try w.start()
    defer { w.stop() }
    let history = try HistoryWriter(path: dir + "/history.jsonl")
    let steps: [(Invocation, HistoryEvent.Kind)] = [
      (Invocation(f: "read", key: "k1"), .ok),
      (Invocation(f: "write", value: .int(7)), .ok),
      (Invocation(f: "nope"), .fail),
      (Invocation(f: "maybe", value: .int(1)), .info),
      (Invocation(f: "read"), .ok),
      (Invocation(f: "hang"), .info),
      (Invocation(f: "crash"), .info),
      (Invocation(f: "garbage"), .info),
      (Invocation(f: "read"), .ok),
    ]
    for (op, want) in steps { XCTAssertEqual(w.perform(op, into: history).type, want, op.f) }
    try history.flush()
    let e = try events()
    XCTAssertEqual(e.count, 18)
    // Process 1 until the info, then 5, 9 (timeout), 13 (crash), 17 (garbage).
    XCTAssertEqual(e.filter { $0.type == .invoke }.map(\.process), [1, 1, 1, 1, 5, 5, 9, 13, 17])
    XCTAssertEqual(e[1].value, .array([.int(1), .string("k1")]), "a read's value is the client's")
    XCTAssertEqual(e[3].value, .int(7), "an ok without value keeps the request's")
    XCTAssertEqual(e[9].value, .array([.int(5), .null]), "the new client is told its new process number")
    XCTAssertEqual(e.last?.value, .array([.int(17), .null]))
    XCTAssertNoThrow(try History(events: e), "one operation in flight per process")
    let log = try String(contentsOfFile: w.log, encoding: .utf8)
    XCTAssertTrue(log.contains("no reply within 2s"), log)
    XCTAssertTrue(log.contains("the client exited"), log)
    XCTAssertTrue(log.contains("not a reply"), log)
    XCTAssertTrue(log.contains("started as process 17"), "stderr goes to the worker's log: \(log)")
  }

  func testThePerOperationFormRunsTheCommandOncePerOperation() throws {
    let script = #"case "$CTHULHU_F" in read) echo '[1, 2]' ;; write) exit 0 ;; nope) exit 4 ;; *) exit 9 ;; esac"#
    let w = worker(.perOperation(command: ["/bin/sh", "-c", script], failCodes: [4]))
    let history = try HistoryWriter(path: dir + "/history.jsonl")
    XCTAssertEqual(w.perform(Invocation(f: "read"), into: history), Reply(type: .ok, value: .array([.int(1), .int(2)]), error: nil))
    XCTAssertEqual(w.perform(Invocation(f: "write", value: .int(3)), into: history).type, .ok)
    XCTAssertEqual(w.perform(Invocation(f: "nope"), into: history).type, .fail)
    XCTAssertEqual(w.perform(Invocation(f: "other"), into: history).type, .info)
    XCTAssertEqual(w.process, 5, "an info gives a new process number")
  }

  func testAClientThatCannotBeFoundIsRefusedBeforeTheRun() {
    XCTAssertThrowsError(try ClientCommand.check(["./missing-client"], directory: dir))
    XCTAssertThrowsError(try ClientCommand.check(["no-such-program-anywhere"], directory: dir))
    XCTAssertNoThrow(try ClientCommand.check(["./client.py"], directory: dir))
    XCTAssertNoThrow(try ClientCommand.check(["sh"], directory: dir))
  }
}

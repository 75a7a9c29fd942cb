import Foundation
import XCTest

@testable import History

/// A malformed history names each bad line and what is wrong with it.
final class MalformedHistoryTests: XCTestCase {
  func problems(_ text: String, model: ModelKind = .casRegister) -> [String] {
    do {
      let h = try History(events: HistoryParser.parse(Data(text.utf8), file: "h.jsonl"), file: "h.jsonl")
      _ = try Checker.check(h, model: model)
      return []
    } catch {
      return error.description.split(separator: "\n").map(String.init)
    }
  }

  func testEachKindOfMistakeNamesItsLine() {
    let text = """
      {"process": 0, "type": "invoke", "f": "write", "value": 1}
      not json
      {"type": "ok", "f": "write", "value": 1}
      {"process": 0, "type": "done", "f": "write", "value": 1}
      {"process": 0, "type": "ok", "value": 1}
      {"process": "a", "type": "ok", "f": "write", "value": 1}
      {"process": 0, "type": "ok", "f": "write", "value": 1, "time": -3}

      {"process": 0, "type": "ok", "f": "write", "value": 1}
      """
    XCTAssertEqual(
      problems(text),
      [
        #"h.jsonl:2:1: error: not a JSON object: expected '{': each line is one JSON object, found "not json""#,
        "h.jsonl:3: error: \"process\" is missing (the client's number)",
        "h.jsonl:4: error: \"type\" must be invoke, ok, fail or info, not \"done\"",
        "h.jsonl:5: error: \"f\" is missing (the operation: read, write, cas, get, put, append)",
        "h.jsonl:6: error: \"process\" must be an integer, not \"a\"",
        "h.jsonl:7: error: \"time\" must be nanoseconds (an integer ≥ 0), not -3",
      ])
  }

  func testPairingMistakes() {
    let text = """
      {"process": 0, "type": "invoke", "f": "write", "value": 1}
      {"process": 0, "type": "invoke", "f": "read", "value": null}
      {"process": 1, "type": "ok", "f": "read", "value": 1}
      {"process": 0, "type": "ok", "f": "read", "value": 1}
      """
    XCTAssertEqual(
      problems(text),
      [
        "h.jsonl:2: error: process 0 invokes read while its write from line 1 is outstanding; a process has one operation at a time (after a crash, give the client a new process number)",
        "h.jsonl:3: error: process 1 reports ok for read, but has no operation outstanding (no invoke before it)",
        "h.jsonl:4: error: process 0 reports ok for read, but invoked write (line 1)",
      ])
  }

  func testModelMistakes() {
    XCTAssertEqual(
      problems("{\"process\": 0, \"type\": \"invoke\", \"f\": \"cas\", \"value\": 3}"),
      ["h.jsonl:1: error: cas takes [expected, new], not 3"])
    XCTAssertEqual(
      problems("{\"process\": 0, \"type\": \"invoke\", \"f\": \"cas\", \"value\": [1, 2]}", model: .register),
      ["h.jsonl:1: error: cas is not an operation of a register; check with --model cas-register"])
    XCTAssertEqual(
      problems("{\"process\": 0, \"type\": \"invoke\", \"f\": \"get\", \"value\": null}", model: .kv),
      ["h.jsonl:1: error: get has no \"key\"; kv operations name the key they act on"])
    XCTAssertEqual(
      problems("{\"process\": 0, \"type\": \"invoke\", \"f\": \"append\", \"key\": \"k\", \"value\": 3}", model: .kv),
      ["h.jsonl:1: error: append of 3; kv values are strings"])
    XCTAssertEqual(
      problems("{\"process\": 0, \"type\": \"invoke\", \"f\": \"incr\", \"value\": 3}"),
      ["h.jsonl:1: error: incr is not an operation of a cas-register (its operations are read, write and cas)"])
  }

  func testOnlyTheFirstTwentyAreListed() {
    let text = String(repeating: "oops\n", count: 25)
    let lines = problems(text)
    XCTAssertEqual(lines.count, 21)
    XCTAssertEqual(lines.last, "h.jsonl: 5 more errors not shown")
  }

  func testNemesisLinesAndExtraKeysAreIgnored() throws {
    let text = """
      {"process": "nemesis", "type": "info", "f": "start", "value": null}
      {"process": 0, "type": "invoke", "f": "write", "value": 1, "index": 0}
      {"process": 0, "type": "ok", "f": "write", "value": 1, "index": 1}
      """
    XCTAssertEqual(problems(text), [])
    XCTAssertEqual(try HistoryParser.parse(Data(text.utf8)).count, 2)
  }

  func testEventLinesRoundTrip() throws {
    let e = HistoryEvent(process: 2, type: .ok, f: "append", value: .string("a\"b\n"), key: "k1", time: 42)
    XCTAssertEqual(e.jsonLine, #"{"process": 2, "type": "ok", "f": "append", "key": "k1", "value": "a\"b\n", "time": 42}"#)
    var back = try HistoryParser.parse(Data(e.jsonLine.utf8))[0]
    back.line = 0
    XCTAssertEqual(back, e)
  }
}

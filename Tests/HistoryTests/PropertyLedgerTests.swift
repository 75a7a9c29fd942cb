import Foundation
import XCTest

@testable import History

/// `CTHULHU_ASSERTIONS`: each kind's verdict, declarations, bad lines said
/// where they are, and several files (instances and clients) read as one.
final class PropertyLedgerTests: XCTestCase {
  func ledger(_ lines: [String], source: String = "a.jsonl") -> PropertyLedger {
    var l = PropertyLedger()
    l.add(Data((lines.joined(separator: "\n") + "\n").utf8), source: source)
    return l
  }

  func verdicts(_ l: PropertyLedger) -> [String] {
    l.properties.map { "\($0.assert.rawValue) \($0.id): " + ($0.passed ? "passed" : "failed, " + ($0.reason ?? "?")) }
  }

  func testEachKindPassesAndFailsAsAntithesisSays() {
    let l = ledger([
      #"{"assert": "always", "id": "one leader per term", "condition": true, "details": {"term": 1}}"#,
      #"{"assert": "always", "id": "one leader per term", "condition": false, "details": {"term": 2, "leaders": ["i001", "i002"]}}"#,
      #"{"assert": "always", "id": "one leader per term", "condition": false, "details": {"term": 3}}"#,
      #"{"assert": "always", "id": "log index grows", "condition": true}"#,
      #"{"assert": "sometimes", "id": "election happened", "condition": false}"#,
      #"{"assert": "sometimes", "id": "election happened", "condition": true}"#,
      #"{"assert": "sometimes", "id": "follower caught up", "condition": false}"#,
      #"{"assert": "reachable", "id": "snapshot installed", "hit": false}"#,
      #"{"assert": "reachable", "id": "recovery ran"}"#,
      #"{"assert": "unreachable", "id": "corrupt entry", "hit": false}"#,
      #"{"assert": "unreachable", "id": "double vote", "details": {"node": "i003"}}"#,
      #"{"assert": "sometimes", "id": "never declared twice", "hit": false}"#,
    ])
    XCTAssertEqual(
      verdicts(l),
      [
        "always one leader per term: failed, seen false 2 of 3 times (first at a.jsonl:2)",
        "always log index grows: passed",
        "sometimes election happened: passed",
        "sometimes follower caught up: failed, never true in 1 hit",
        "reachable snapshot installed: failed, never reached",
        "reachable recovery ran: passed",
        "unreachable corrupt entry: passed",
        "unreachable double vote: failed, reached 1 time (first at a.jsonl:11)",
        "sometimes never declared twice: failed, never reached",
      ])
    let leader = l.properties[0]
    XCTAssertEqual(leader.hits, 3)
    XCTAssertEqual(leader.trueCount, 1)
    XCTAssertEqual(leader.falseCount, 2)
    XCTAssertEqual(leader.details, .object(["term": .int(2), "leaders": .array([.string("i001"), .string("i002")])]), "the first failing line's")
    XCTAssertEqual(l.properties[1].at, "a.jsonl:4")
    XCTAssertFalse(l.allPassed)
    XCTAssertTrue(PropertyLedger().allPassed, "no property, nothing failed")
    XCTAssertEqual(l.problemCount, 0)
  }

  func testBadLinesAreSaidWhereTheyAreAndAHalfWrittenLastLineIsSkipped() {
    var l = PropertyLedger()
    let text = [
      "not json",
      #"{"assert": "maybe", "id": "x"}"#,
      #"{"assert": "always", "id": ""}"#,
      #"{"assert": "always", "id": "x"}"#,
      #"{"assert": "always", "id": "x", "condition": "yes"}"#,
      #"{"assert": "reachable", "id": "x", "hit": 1}"#,
      "[1]",
      "",
      #"{"assert": "always", "id": "ok", "condition": true}"#,
      #"{"assert": "always", "id": "ok", "condition": fal"#,
    ].joined(separator: "\n")
    l.add(Data(text.utf8), source: "i001.jsonl")
    XCTAssertEqual(
      l.problems.map { "\($0.at): \($0.message)" },
      [
        "i001.jsonl:1: not a JSON object",
        "i001.jsonl:2: 'assert' must be one of always, sometimes, reachable, unreachable",
        "i001.jsonl:3: 'id' must be a non-empty string",
        "i001.jsonl:4: an 'always' assertion needs 'condition': true or false",
        "i001.jsonl:5: 'condition' must be true or false",
        "i001.jsonl:6: 'hit' must be true or false",
        "i001.jsonl:7: not a JSON object",
      ])
    XCTAssertEqual(verdicts(l), ["always ok: passed"])
    XCTAssertEqual(l.properties[0].hits, 1, "the half-written last line is not counted")
  }

  func testSeveralFilesAreOneRunAndAMissingFileStatedNothing() throws {
    let dir = NSTemporaryDirectory() + "cthulhu-properties-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try (#"{"assert": "sometimes", "id": "election happened", "condition": false}"# + "\n").write(
      toFile: dir + "/i001.jsonl", atomically: true, encoding: .utf8)
    try (#"{"assert": "sometimes", "id": "election happened", "condition": true}"# + "\n").write(
      toFile: dir + "/i002.jsonl", atomically: true, encoding: .utf8)
    let l = try PropertyLedger.read([dir + "/i001.jsonl", dir + "/i002.jsonl", dir + "/i003.jsonl"])
    XCTAssertEqual(verdicts(l), ["sometimes election happened: passed"])
    XCTAssertEqual(l.properties[0].hits, 2)
    XCTAssertEqual(l.properties[0].at, dir + "/i001.jsonl:1")
    // As results.json carries them.
    let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(l.properties)) as? [[String: Any]]
    XCTAssertEqual(json?.first?["assert"] as? String, "sometimes")
    XCTAssertEqual(json?.first?["passed"] as? Bool, true)
  }
}

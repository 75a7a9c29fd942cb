import Foundation
import XCTest

@testable import Orchestrator

/// The event log's lines as programs read them: typed fields on every line
/// this version writes, older lines and newer kinds still read, and the
/// times in UTC whatever the zone of the machine.
final class EventLogTests: XCTestCase {
  var root = ""

  override func setUpWithError() throws {
    root = NSTemporaryDirectory() + "cthulhu-events-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: root)
  }

  func testWrittenLinesCarryTheTypedFieldsAndReadBack() {
    let log = EventLog(root: root)
    log.append(
      Event(actor: "faults[1]", kind: .fault, action: "isolate f4", targets: ["i002"], instances: ["i002"], detail: "isolate i002", fault: "f4"))
    log.append(
      Event(actor: "faults[1]", kind: .heal, action: "heal", targets: ["all"], instances: ["i002"], detail: "healed i002; lifted f4", lifted: ["f4"]))
    log.append(Event(actor: "apply[1]", kind: .step, action: "start", targets: ["instance:i001"], instances: ["i001"], failed: "no such image"))
    let read = log.read()
    XCTAssertEqual(read.count, 3)
    XCTAssertEqual(read.map(\.kind), [.fault, .heal, .step])
    XCTAssertEqual(read.map(\.result), [.ok, .ok, .failed])
    XCTAssertEqual(read[0].fault, "f4")
    XCTAssertEqual(read[1].lifted, ["f4"])
    XCTAssertEqual(read[2].error, "no such image")
    XCTAssertTrue(read[2].failed)
    XCTAssertEqual(read[2].outcome, "failed: no such image", "the words for people say the same")
    XCTAssertEqual(read[0].detail, "isolate i002")
    XCTAssertTrue(zip(read, read.dropFirst()).allSatisfy { $0.monotonic <= $1.monotonic })
    // The file's own line: sorted keys, the format version, a UTC time with milliseconds.
    let line = log.rawLines()[0]
    XCTAssertTrue(line.contains("\"format\":\(Event.currentFormat)"), line)
    XCTAssertNotNil(line.range(of: #""time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z""#, options: .regularExpression), line)
  }

  func testLinesOfTheFirstFormatAndKindsFromANewerVersionAreRead() throws {
    let old =
      #"{"action":"partition f1","actor":"faults[9]","monotonic":5.5,"outcome":"ok: partition {i001} | {i002}","targets":["i001","i002"],"time":"2025-12-01T10:00:00.000Z"}"#
    let newer =
      #"{"action":"grow","actor":"nemesis[9]","format":3,"kind":"membership grow","monotonic":6.5,"outcome":"ok","result":"ok","targets":["i004"],"time":"2025-12-01T10:00:01Z"}"#
    try (old + "\n" + newer + "\n").write(toFile: root + "/events.jsonl", atomically: true, encoding: .utf8)
    let read = EventLog(root: root).read()
    XCTAssertEqual(read.count, 2)
    XCTAssertNil(read[0].format)
    XCTAssertNil(read[0].kind, "a line of format 1 has only the words, and nothing parses them")
    XCTAssertFalse(read[0].failed)
    XCTAssertEqual(read[1].kind, .other)
    XCTAssertEqual(read[1].time, Date(timeIntervalSince1970: 1_764_583_201), "a time in whole seconds is read too")
  }

  func testTimesAreWrittenInUTC() throws {
    let t = Date(timeIntervalSince1970: 1_765_007_472.345)  // 2025-12-06T07:51:12.345Z
    XCTAssertEqual(TimeText.clock(t), "07:51:12.345")
    XCTAssertEqual(TimeText.clock(t, milliseconds: false), "07:51:12")
    XCTAssertEqual(TimeText.wall(t), "07:51:12 UTC")
    XCTAssertEqual(TimeText.stamp(t), "20251206T075112Z")
    XCTAssertEqual(TimeText.iso(t), "2025-12-06T07:51:12.345Z")
    let back = try XCTUnwrap(TimeText.date(iso: TimeText.iso(t)))
    XCTAssertEqual(back.timeIntervalSince1970, t.timeIntervalSince1970, accuracy: 0.001)
  }
}

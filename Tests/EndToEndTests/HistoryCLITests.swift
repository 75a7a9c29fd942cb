import Foundation
import History
import TestSupport
import XCTest

/// `cthulhu check` and `cthulhu op` through the built binary: verdicts as
/// exit codes, the words, the picture, and recording from the command line.
final class HistoryCLITests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws { dir = try Harness.tempDir("history") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ lines: [String]) throws -> String {
    let path = dir + "/" + name
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static let staleRead = [
    #"{"process": 0, "type": "invoke", "f": "write", "value": 1, "time": 1000000}"#,
    #"{"process": 0, "type": "ok", "f": "write", "value": 1, "time": 2000000}"#,
    #"{"process": 1, "type": "invoke", "f": "write", "value": 2, "time": 3000000}"#,
    #"{"process": 1, "type": "ok", "f": "write", "value": 2, "time": 4000000}"#,
    #"{"process": 2, "type": "invoke", "f": "read", "value": null, "time": 5000000}"#,
    #"{"process": 2, "type": "ok", "f": "read", "value": 1, "time": 6000000}"#,
  ]

  func testLinearizableExitsZero() throws {
    let h = try write("ok.jsonl", Array(Self.staleRead.prefix(4)))
    let r = try Harness.cthulhu(["check", h])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.hasPrefix("\(h): linearizable (cas-register, 2 operations;"), r.stdout)
    XCTAssertFalse(FileManager.default.fileExists(atPath: h + ".html"))
  }

  func testViolationExitsTwoWithWordsAndPicture() throws {
    let h = try write("stale.jsonl", Self.staleRead)
    let r = try Harness.cthulhu(["check", "--model", "register", h])
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertTrue(r.stdout.hasPrefix("\(h): not linearizable (register, 3 operations;"), r.stdout)
    XCTAssertTrue(r.stdout.contains("These 3 operations (processes 0, 1 and 2) cannot be linearized"), r.stdout)
    XCTAssertTrue(r.stdout.contains("p2       read → 1   ok       lines 5–6  +4.000 – +5.000 ms"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Leaving out any one of them makes the rest linearizable."), r.stdout)
    XCTAssertTrue(r.stdout.contains("No order lets p2's read → 1 (lines 5–6) take effect before it completes"), r.stdout)
    XCTAssertTrue(r.stdout.contains("  p0 write 1 → 1\n  p1 write 2 → 2\n"), "the longest legal order, a step a line: \(r.stdout)")
    XCTAssertTrue(r.stdout.contains("Picture: \(h).html"), r.stdout)
    let html = try String(contentsOfFile: h + ".html", encoding: .utf8)
    XCTAssertTrue(html.contains("<svg"), "an inline SVG")
    XCTAssertTrue(html.contains("p2 read → 1: ok, lines 5–6, +4.000 ms – +5.000 ms"), "a tooltip per operation")
    XCTAssertFalse(html.contains("<script"), "self-contained, no scripts")

    let svg = dir + "/picture.svg"
    XCTAssertEqual(try Harness.cthulhu(["check", "--picture", svg, h]).status, 2)
    XCTAssertTrue(try String(contentsOfFile: svg, encoding: .utf8).hasPrefix("<svg xmlns="))
  }

  func testMalformedHistoryExitsOneNamingTheLine() throws {
    let h = try write("bad.jsonl", [Self.staleRead[0], #"{"process": 0, "type": "done", "f": "write", "value": 1}"#])
    let r = try Harness.cthulhu(["check", h])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderr, "\(h):2: error: \"type\" must be invoke, ok, fail or info, not \"done\"\n")
    XCTAssertEqual(r.stdout, "")
  }

  func testTimeoutSaysUnknown() throws {
    // Twenty concurrent writes of unknown outcome and an impossible read: many orders to rule out.
    var lines: [String] = []
    for p in 0..<20 { lines.append(#"{"process": \#(p), "type": "invoke", "f": "write", "value": \#(p)}"#) }
    lines.append(#"{"process": 99, "type": "invoke", "f": "read", "value": null}"#)
    lines.append(#"{"process": 99, "type": "ok", "f": "read", "value": 100}"#)
    let h = try write("hard.jsonl", lines)
    let r = try Harness.cthulhu(["check", "--timeout", "1ms", h])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains(": unknown: the time ran out"), r.stdout)
  }

  func testBadModelAndTimeoutAreRefused() throws {
    let h = try write("ok.jsonl", Array(Self.staleRead.prefix(2)))
    let refused = try Harness.cthulhu(["check", "--model", "queue", h]).stderr
    XCTAssertTrue(refused.contains("--model takes one of \(ModelName.list) (got 'queue')"), refused)
    XCTAssertTrue(refused.contains("set-full") && refused.contains("list-append"), refused)
    XCTAssertTrue(try Harness.cthulhu(["check", "--timeout", "soon", h]).stderr.contains("The value 'soon' is invalid for '--timeout <duration>'"))
  }

  func testSchemaOfAHistoryLine() throws {
    let r = try Harness.cthulhu(["schema", "--history"])
    XCTAssertEqual(r.status, 0)
    let schema = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    XCTAssertEqual(schema?["required"] as? [String], ["process", "type", "f"])
  }
}

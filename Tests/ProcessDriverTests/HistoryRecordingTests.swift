import Foundation
import TestSupport
import XCTest

/// Recording a history the way a test suite does: through the fixture's
/// control shims, into the fixture's history.jsonl, which destroy removes.
final class HistoryRecordingTests: XCTestCase {
  func testControlShimsRecordAndCheckAndDestroyRemovesTheHistory() throws {
    try Host.requireBusybox()
    let dir = try Host.tempDir("history")
    let fixture = Host.uniqueName("hist")
    defer {
      _ = try? Harness.cthulhu(["destroy"], in: dir)
      Host.killLeftovers(fixture: fixture)
      try? FileManager.default.removeItem(atPath: dir)
    }
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        command: ["\(Host.busybox)", "sleep", "600"]

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let apply = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(apply.status, 0, apply.stderr)
    let root = dir + "/cthulhu-fixture"

    let w = try Host.run(root + "/control", ["op", "--process", "1", "--f", "write", "--value", "5", "--", "true"])
    XCTAssertEqual(w.status, 0, w.stderr)
    let r = try Host.run(root + "/i001/control", ["op", "--process", "2", "--f", "read", "--", "echo", "5"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(try String(contentsOfFile: root + "/history.jsonl", encoding: .utf8).split(separator: "\n").count, 4)
    let ok = try Host.run(root + "/control", ["check"])
    XCTAssertEqual(ok.status, 0, ok.stderr)
    XCTAssertTrue(ok.stdout.contains("history.jsonl: linearizable (cas-register, 2 operations;"), ok.stdout)

    _ = try Host.run(root + "/control", ["op", "--process", "3", "--f", "read", "--", "echo", "4"])
    let bad = try Host.run(root + "/i001/control", ["check", "--no-picture"])
    XCTAssertEqual(bad.status, 2, bad.stdout + bad.stderr)
    XCTAssertTrue(try Host.run(root + "/control", ["help"]).stdout.contains("op --process N --f F"))

    XCTAssertEqual(try Harness.cthulhu(["destroy"], in: dir).status, 0)
    XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/history.jsonl"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "nothing else was left in the fixture's folder")
  }
}

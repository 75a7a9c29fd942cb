import Foundation
import XCTest

/// The binary's behaviour that needs no engine: help, validation, exit codes.
final class CLITests: XCTestCase {
  func testHelpListsCommands() throws {
    let r = try Harness.cthulhu(["--help"])
    XCTAssertEqual(r.status, 0)
    for verb in ["validate", "plan", "apply", "destroy", "status", "schema", "init"] {
      XCTAssertTrue(r.stdout.contains(verb), "help lacks \(verb): \(r.stdout)")
    }
  }

  func testPlanOfInvalidManifestFailsWithDiagnostics() throws {
    let dir = try Harness.tempDir("cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "fixture: Bad_Name\ngroups: {}\n".write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let r = try Harness.cthulhu(["plan", "--detailed-exitcode"], in: dir)
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("cthulhu.yaml:1:10: error:"), r.stderr)
    XCTAssertEqual(r.stdout, "")
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture"), "a failed plan writes nothing")
  }

  func testDestroyWithoutFixtureSaysSo() throws {
    let dir = try Harness.tempDir("cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let r = try Harness.cthulhu(["destroy", "--fixture", dir + "/nothing"])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.hasPrefix("Nothing to destroy"), r.stdout)
  }
}

import Foundation
import TestSupport
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

/// Engine failures are one sentence, not a stack of NIO errors.
final class EngineUnavailableTests: XCTestCase {
  func testMissingSocketIsOneClearSentence() throws {
    let dir = try Harness.tempDir("cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "fixture: f\ngroups: {a: {image: x}}\n".write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let r = try Harness.cthulhu(["plan"], in: dir, env: ["DOCKER_HOST": "unix://\(dir)/none.sock"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    XCTAssertTrue(r.stderr.hasPrefix("error: cannot reach the Docker engine at unix://\(dir)/none.sock: is dockerd running?"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture"))
  }

  func testTCPDockerHostIsRefusedClearly() throws {
    let dir = try Harness.tempDir("cli")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "fixture: f\ngroups: {a: {image: x}}\n".write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let r = try Harness.cthulhu(["plan"], in: dir, env: ["DOCKER_HOST": "tcp://127.0.0.1:2375"])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderr, "error: DOCKER_HOST=tcp://127.0.0.1:2375: cthulhu talks to the engine over a unix socket only (unix:///path)\n")
  }
}

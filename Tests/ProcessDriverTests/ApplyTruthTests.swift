import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// Apply ends on the truth (issue 13): an instance that exits right after
/// its start fails the apply, with its exit code and its last log lines;
/// a `run_once` group's instances may exit, with 0, and are then left alone.
/// Process driver, loopback mode: no engine, no root.
final class ApplyTruthTests: XCTestCase {
  var dir = ""
  var fixture = ""

  override func setUp() async throws {
    try Host.requireBusybox()
    fixture = Host.uniqueName("truth")
    dir = try Host.tempDir(fixture)
  }

  override func tearDown() async throws {
    if FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture") { _ = try? run(["destroy"]) }
    Host.killLeftovers(fixture: fixture)
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  func run(_ args: [String]) throws -> Host.Run { try Host.run(Host.cthulhuBinary, args, in: dir) }

  func write(_ groups: String) throws {
    try "fixture: \(fixture)\ndriver: process\ngroups:\n\(groups)".write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  func testAnInstanceThatExitsRightAfterItsStartFailsTheApplyWithItsCodeAndLastLines() throws {
    try write(
      """
        server:
          count: 2
          command: ["\(Host.busybox)", "sh", "-c", "echo loading config; echo 'bad port: 99999' >&2; exit 3"]
        steady:
          command: ["\(Host.busybox)", "sleep", "600"]

      """)
    let r = try run(["apply"])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("instance i001 exited with code 3 right after its start"), r.stderr)
    XCTAssertTrue(r.stderr.contains("  | bad port: 99999"), r.stderr)
    XCTAssertTrue(r.stderr.contains("  | loading config"), r.stderr)
    XCTAssertTrue(r.stderr.contains("instance i002 exited with code 3"), r.stderr)
    XCTAssertFalse(r.stderr.contains("i003"), "the steady instance is fine: \(r.stderr)")
    // The next plan is honest about it too.
    let p = try run(["plan", "--detailed-exitcode"])
    XCTAssertEqual(p.status, 2, p.stdout)
    XCTAssertTrue(p.stdout.contains("container exited"), p.stdout)
  }

  func testARunOnceGroupMayExitWithZeroAndIsNotStartedAgain() throws {
    try write(
      """
        setup:
          run_once: true
          command: ["\(Host.busybox)", "sh", "-c", "echo seeded"]
        server:
          command: ["\(Host.busybox)", "sleep", "600"]

      """)
    let r = try run(["apply"])
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let p = try run(["plan", "--detailed-exitcode"])
    XCTAssertEqual(p.status, 0, "a finished run_once instance is converged: \(p.stdout)")
    XCTAssertEqual(try run(["apply"]).stdout.hasPrefix("No changes"), true)
  }

  func testARunOnceInstanceThatFailsFailsTheApply() throws {
    try write(
      """
        setup:
          run_once: true
          command: ["\(Host.busybox)", "sh", "-c", "echo migration failed; exit 2"]

      """)
    let r = try run(["apply"])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("instance i001 ran once and exited with code 2; the last lines it logged:\n  | migration failed"), r.stderr)
  }
}

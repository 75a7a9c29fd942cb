import Foundation
import TestSupport
import XCTest

/// An instance that cannot start is reported by its cause: its exit status
/// and the last lines it logged, not the health check it never passed.
final class StartFailureTests: FixtureTestCase {
  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("startfail")
  }

  func testAnInstanceThatExitsBeforeItIsHealthySaysWhy() throws {
    let b = Host.busybox
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: loopback }
    groups:
      node:
        command: ["\(b)", "sh", "-c", "echo starting; echo \\"can't open config file: Permission denied\\" >&2; exit 3"]
        healthcheck:
          command: ["\(b)", "false"]
          interval: 100ms
          retries: 50

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(
      r.stderr.contains(
        "instance i001 exited with code 3 before it was healthy; the last lines it logged:\n  | starting\n  | can't open config file: Permission denied"
      ),
      r.stderr)
    XCTAssertFalse(r.stderr.contains("health check"), "the cause, not the check: " + r.stderr)
  }
}

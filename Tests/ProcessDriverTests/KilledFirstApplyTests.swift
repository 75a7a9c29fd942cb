import Foundation
import TestSupport
import XCTest

/// An apply killed between making the fixture's root and its first state
/// save leaves the root with only `.cthulhu` in it. The next apply adopts
/// it; cthulhu made it, so `destroy` removes it. (HardeningTests met this
/// when its earliest kill landed in that window on a loaded machine.)
final class KilledFirstApplyTests: FixtureTestCase {
  func writeManifest() throws {
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        command: ["\(Host.busybox)", "sleep", "600"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("killed1st")
    try writeManifest()
  }

  func testARootMadeByAKilledApplyIsRemovedByDestroy() throws {
    // What the killed apply left: the root, its .cthulhu and the mark.
    try FileManager.default.createDirectory(atPath: root + "/.cthulhu", withIntermediateDirectories: true)
    XCTAssertTrue(FileManager.default.createFile(atPath: root + "/.cthulhu/created-root", contents: nil))
    try mustSucceed("apply")
    try mustSucceed("destroy")
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "cthulhu made the root: destroy removes it")
  }

  func testAnEmptyRootTheUserMadeIsKept() throws {
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    try mustSucceed("apply")
    try mustSucceed("destroy")
    XCTAssertTrue(FileManager.default.fileExists(atPath: root), "the user's folder stays")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [], "and is empty again")
  }

  func testAFreshRootIsRemovedByDestroy() throws {
    try mustSucceed("apply")
    try mustSucceed("destroy")
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
  }
}

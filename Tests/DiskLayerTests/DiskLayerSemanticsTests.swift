import DiskLayer
import Foundation
import Orchestrator
import TestSupport
import XCTest

/// The rules of lose-unsynced one by one, on files that were in the backing
/// folder before the mount (durable as they stand) and files made through it.
final class DiskLayerSemanticsTests: XCTestCase {
  var layer: LayerMount!

  override func setUp() async throws { layer = try LayerMount(tag: "disk-rules") }

  override func tearDown() async throws {
    if let layer { XCTAssertTrue(layer.stop(), "the layer did not stop by itself on SIGTERM, or left its mount") }
  }

  func bytes(_ byte: Character, _ count: Int) -> [UInt8] { [UInt8](repeating: byte.asciiValue!, count: count) }

  /// Seeds the backing folder directly (before any change through the mount, so durable).
  func seed(_ name: String, _ content: [UInt8]) throws {
    try Data(content).write(to: URL(fileURLWithPath: layer.backing + "/" + name))
  }

  func testUnsyncedDataIsLostAndSyncedDataStays() throws {
    try seed("log", bytes("A", 10))
    let log = layer.mount + "/log"
    try Through.write(log, at: 10, bytes("B", 10))
    try Through.fsync(log)
    try Through.write(log, at: 20, bytes("C", 10))
    try Through.write(log, at: 0, bytes("X", 5))
    XCTAssertEqual(try layer.status(), DiskLayerStatus(unsyncedFiles: 1, savedBytes: 5, changedDirectories: 0))
    let report = try layer.loseUnsynced()
    XCTAssertEqual(report.files, 1)
    XCTAssertEqual(report.bytesRestored, 5)
    XCTAssertEqual(try Through.read(log), bytes("A", 10) + bytes("B", 10))
    // A truncation is undone as well, and fdatasync counts as fsync.
    try Through.truncate(log, 3)
    XCTAssertEqual(try Through.read(log), bytes("A", 3))
    _ = try layer.loseUnsynced()
    XCTAssertEqual(try Through.read(log), bytes("A", 10) + bytes("B", 10))
    let fd = try Through.open(log, O_WRONLY)
    try Through.check(Int(pwrite(fd, "Z", 1, 0)), "pwrite")
    try Through.check(Int(fdatasync(fd)), "fdatasync")
    close(fd)
    _ = try layer.loseUnsynced()
    XCTAssertEqual(try Through.read(log), bytes("Z", 1) + bytes("A", 9) + bytes("B", 10))
  }

  func testNamesNeedTheirFolderFsync() throws {
    try seed("old", bytes("o", 4))
    try seed("gone", bytes("g", 4))
    let m = layer.mount
    try Through.write(m + "/synced-data-only", at: 0, bytes("s", 3), create: true)
    try Through.fsync(m + "/synced-data-only")
    try Through.rename(m + "/old", m + "/moved")
    try Through.unlink(m + "/gone")
    try Through.mkdir(m + "/sub")
    try Through.write(m + "/sub/inside", at: 0, bytes("i", 2), create: true)
    try Through.fsync(m + "/sub/inside")
    try Through.write(m + "/named-not-synced", at: 0, bytes("n", 3), create: true)
    // The root's entries are durable now (moved, sub, named-not-synced…), not sub's.
    try Through.fsync(m, folder: true)
    try Through.write(m + "/after", at: 0, bytes("a", 1), create: true)
    let report = try layer.loseUnsynced()
    XCTAssertEqual(
      Set(try FileManager.default.contentsOfDirectory(atPath: m)), ["moved", "named-not-synced", "sub", "synced-data-only"])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: m + "/sub"), [], "sub was never fsynced: it holds nothing")
    XCTAssertEqual(try Through.read(m + "/moved"), bytes("o", 4))
    XCTAssertEqual(try Through.read(m + "/named-not-synced"), [], "its name was made durable, not its data")
    XCTAssertEqual(try Through.read(m + "/synced-data-only"), bytes("s", 3))
    XCTAssertEqual(report.namesRemoved, 2, "sub/inside and after")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layer.state + "/graveyard"), [])
  }

  func testRenamesAndUnlinksAreUndoneWithoutTheFolderFsync() throws {
    try seed("a", bytes("a", 5))
    try seed("b", bytes("b", 6))
    let m = layer.mount
    try Through.rename(m + "/a", m + "/b")  // replaces the durable b
    try check(Int(link(m + "/b", m + "/c")), "link")
    try Through.unlink(m + "/b")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: m), ["c"])
    _ = try layer.loseUnsynced()
    XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: m)), ["a", "b"])
    XCTAssertEqual(try Through.read(m + "/a"), bytes("a", 5))
    XCTAssertEqual(try Through.read(m + "/b"), bytes("b", 6))
  }

  func check(_ rc: Int, _ what: String) throws { try Through.check(rc, what) }

  func testTornKeepsAPartOfTheLastWriteChosenBySeed() throws {
    try seed("data", bytes("d", 100))
    let path = layer.mount + "/data"
    var kept: [Int] = []
    for _ in 0..<2 {
      try Through.write(path, at: 50, bytes("w", 1000))
      let report = try layer.loseUnsynced(torn: true, seed: 42)
      let cut = try XCTUnwrap(report.torn.first)
      XCTAssertEqual(report.torn.count, 1)
      XCTAssertEqual(cut.path, "/data")
      XCTAssertEqual(cut.offset, 50)
      XCTAssertEqual(cut.length, 1000)
      XCTAssert((1..<1000).contains(cut.kept), "kept \(cut.kept)")
      XCTAssertEqual(try Through.read(path), bytes("d", 50) + bytes("w", cut.kept) + bytes("d", max(0, 50 - cut.kept)))
      kept.append(cut.kept)
      // Back to the durable 100 bytes for the second round.
      try Through.truncate(path, 100)
      try Through.write(path, at: 0, bytes("d", 100))
      try Through.fsync(path)
    }
    XCTAssertEqual(kept[0], kept[1], "the same seed cuts the same write the same way")
  }

  /// A file unlinked while open is still written and fsynced through its
  /// descriptor; the unlink was not made durable, so the name comes back,
  /// with what that fsync made durable.
  func testAnOpenUnlinkedFileIsStillRecorded() throws {
    try seed("open", bytes("o", 8))
    let path = layer.mount + "/open"
    let fd = try Through.open(path, O_RDWR)
    try Through.unlink(path)
    XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    try Through.check(bytes("n", 4).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 8) }, "pwrite")
    try Through.check(Int(fsync(fd)), "fsync")
    try Through.check(bytes("x", 2).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }, "pwrite")
    close(fd)
    _ = try layer.loseUnsynced()
    XCTAssertEqual(try Through.read(path), bytes("o", 8) + bytes("n", 4))
  }

  func testSIGTERMUnmountsAndEndsTheDaemon() throws {
    XCTAssertTrue(layer.isMounted)
    XCTAssertTrue(layer.stop())
    XCTAssertFalse(layer.isMounted)
    XCTAssertFalse(FileManager.default.fileExists(atPath: layer.dir), "the temporary folder is gone with the mount")
    layer = nil
  }
}

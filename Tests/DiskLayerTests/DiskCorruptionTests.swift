import Foundation
import Orchestrator
import TestSupport
import XCTest

/// Corruption of files at rest, in a temporary folder.
final class DiskCorruptionTests: XCTestCase {
  var dir: String!

  override func setUp() async throws { dir = try Harness.tempDir("disk-corrupt") }
  override func tearDown() async throws { if let dir { try? FileManager.default.removeItem(atPath: dir) } }

  func write(_ path: String, _ bytes: [UInt8]) throws {
    let url = URL(fileURLWithPath: dir + path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
  }

  func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + path))) }

  func pseudoRandom(_ count: Int, seed: UInt64) -> [UInt8] {
    var random = SeededGenerator(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
  }

  func testBitflipChangesExactlyNBitsTheSameForTheSameSeed() throws {
    let content = pseudoRandom(4096, seed: 1)
    for copy in ["/a", "/b", "/c"] { try write(copy + "/wal/1.log", content) }
    let changes = try DiskCorruption.corrupt(folder: dir + "/a", path: "\\.log$", .bitflip(count: 37), seed: 5)
    let after = try read("/a/wal/1.log")
    XCTAssertEqual(after.count, content.count)
    XCTAssertEqual(zip(content, after).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +), 37)
    // The report is exactly what changed.
    XCTAssertEqual(changes.map(\.offset), zip(content, after).enumerated().filter { $0.element.0 != $0.element.1 }.map { Int64($0.offset) })
    for change in changes {
      XCTAssertEqual(change.path, "/wal/1.log")
      XCTAssertEqual(change.length, 1)
      XCTAssertEqual(change.old, content[Int(change.offset)])
      XCTAssertEqual(change.new, after[Int(change.offset)])
    }
    XCTAssertEqual(try DiskCorruption.corrupt(folder: dir + "/b", path: "\\.log$", .bitflip(count: 37), seed: 5), changes)
    XCTAssertEqual(try read("/b/wal/1.log"), after)
    XCTAssertNotEqual(try DiskCorruption.corrupt(folder: dir + "/c", path: "\\.log$", .bitflip(count: 37), seed: 6), changes)
    // A file with fewer bits than asked has all of them flipped.
    try write("/a/tiny", [0b1010_0101])
    XCTAssertEqual(
      try DiskCorruption.corrupt(folder: dir + "/a", path: "^/tiny$", .bitflip(count: 20), seed: 1),
      [DiskCorruption.Change(path: "/tiny", offset: 0, length: 1, old: 0b1010_0101, new: 0b0101_1010)])
  }

  func testSymbolicLinksAreNeverFollowed() throws {
    try write("/outside/secret", Array("secret".utf8))
    try write("/outside/folder/inner.log", Array("inner".utf8))
    try write("/data/own.log", Array("own".utf8))
    try FileManager.default.createSymbolicLink(atPath: dir + "/data/link.log", withDestinationPath: dir + "/outside/secret")
    try FileManager.default.createSymbolicLink(atPath: dir + "/data/folder", withDestinationPath: dir + "/outside/folder")
    let changes = try DiskCorruption.corrupt(folder: dir + "/data", path: ".", .truncate(bytes: 1), seed: 1)
    XCTAssertEqual(changes, [DiskCorruption.Change(path: "/own.log", offset: 2, length: 1)])
    XCTAssertEqual(try read("/data/own.log"), Array("ow".utf8))
    XCTAssertEqual(try read("/outside/secret"), Array("secret".utf8))
    XCTAssertEqual(try read("/outside/folder/inner.log"), Array("inner".utf8))
    // A pattern that only a link matches matches nothing.
    XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/data", path: "^/link", .bitflip(count: 1), seed: 1)) { error in
      XCTAssertEqual(error as? DiskCorruptionError, .noMatch(folder: self.dir + "/data", pattern: "^/link"))
    }
    XCTAssertEqual(try read("/outside/secret"), Array("secret".utf8))
  }

  func testTruncateAndZeroStayWithinEachFile() throws {
    try write("/d/long", Array(repeating: 7, count: 100))
    try write("/d/short", [1, 2, 3])
    try write("/d/empty", [])
    XCTAssertEqual(
      try DiskCorruption.corrupt(folder: dir + "/d", path: ".", .truncate(bytes: 10), seed: 1),
      [DiskCorruption.Change(path: "/long", offset: 90, length: 10), DiskCorruption.Change(path: "/short", offset: 0, length: 3)])
    XCTAssertEqual(try read("/d/long").count, 90)
    XCTAssertEqual(try read("/d/short"), [])
    XCTAssertEqual(
      try DiskCorruption.corrupt(folder: dir + "/d", path: "^/long$", .zero(offset: 80, length: 50), seed: 1),
      [DiskCorruption.Change(path: "/long", offset: 80, length: 10)])
    XCTAssertEqual(try read("/d/long"), Array(repeating: 7, count: 80) + Array(repeating: 0, count: 10))
    // Files that match but have nothing to change are refused, as is a range past every end.
    XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/d", path: "empty|short", .truncate(bytes: 1), seed: 1)) { error in
      XCTAssertEqual(error as? DiskCorruptionError, .nothingToChange(folder: self.dir + "/d", pattern: "empty|short", files: 2))
    }
    XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/d", path: ".", .zero(offset: 1000, length: 1), seed: 1))
  }

  func testAFileWithTwoNamesIsChangedOnce() throws {
    try write("/h/a", [0])
    XCTAssertEqual(link(dir + "/h/a", dir + "/h/b"), 0)
    XCTAssertEqual(try DiskCorruption.corrupt(folder: dir + "/h", path: ".", .bitflip(count: 8), seed: 1).map(\.path), ["/a"])
    XCTAssertEqual(try read("/h/b"), [0xFF])
  }

  func testBadArgumentsChangeNothing() throws {
    try write("/x/f", [1, 2, 3])
    let cases: [(DiskCorruption.Kind, String)] = [
      (.bitflip(count: 0), "("), (.bitflip(count: 0), "."), (.truncate(bytes: 0), "."), (.zero(offset: -1, length: 1), "."),
      (.zero(offset: 0, length: 0), "."), (.bitflip(count: 1), "^/nothing$"),
    ]
    for (kind, pattern) in cases {
      XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/x", path: pattern, kind, seed: 1), "\(kind) \(pattern)")
    }
    XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/x", path: "(", .bitflip(count: 1), seed: 1)) { error in
      guard case .badPattern("(", _)? = error as? DiskCorruptionError else { return XCTFail("\(error)") }
    }
    XCTAssertThrowsError(try DiskCorruption.corrupt(folder: dir + "/missing", path: ".", .bitflip(count: 1), seed: 1)) { error in
      XCTAssertEqual(error as? DiskCorruptionError, .io(path: self.dir + "/missing", errno: ENOENT))
    }
    XCTAssertEqual(try read("/x/f"), [1, 2, 3])
  }
}

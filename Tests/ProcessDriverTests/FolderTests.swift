import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// What the fixture writer does below `bindmounts`, where an instance may
/// own the folders: writes and gives away by descriptor, never through a
/// link, never to a file with another name. All within a temporary folder.
final class FolderTests: XCTestCase {
  var base = ""
  var inside: String { base + "/mount" }
  var outside: String { base + "/outside" }

  override func setUp() async throws {
    base = try Host.tempDir("folder")
    for d in [inside + "/a/b", outside] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
    for f in [inside + "/a/b/file", outside + "/target", outside + "/hard-target"] {
      try "x\n".write(toFile: f, atomically: false, encoding: .utf8)
    }
  }

  override func tearDown() async throws {
    if !base.isEmpty { try? FileManager.default.removeItem(atPath: base) }
  }

  func owner(_ path: String) -> String {
    var st = stat()
    guard lstat(path, &st) == 0 else { return "missing" }
    return "\(st.st_uid):\(st.st_gid)"
  }

  func testGiveFollowsNoLinkAndLeavesHardLinksAlone() throws {
    try Host.require(geteuid() == 0, "giving files to another uid needs root")
    XCTAssertEqual(symlink(outside, inside + "/a/folder-link"), 0)
    XCTAssertEqual(symlink(outside + "/target", inside + "/a/b/file-link"), 0)
    XCTAssertEqual(link(outside + "/hard-target", inside + "/a/hard"), 0)
    try Folder(path: inside).give(to: FileOwner(uid: 4242, gid: 4343))
    for p in ["", "/a", "/a/b", "/a/b/file", "/a/folder-link", "/a/b/file-link"] { XCTAssertEqual(owner(inside + p), "4242:4343", p) }
    XCTAssertEqual(owner(inside + "/a/hard"), "0:0", "another name of it is outside")
    for p in ["", "/target", "/hard-target"] { XCTAssertEqual(owner(outside + p), "0:0", p) }

    // Without a gid the group is left as it is.
    try Folder(path: inside).give(to: FileOwner(uid: 4444, gid: nil))
    XCTAssertEqual(owner(inside + "/a/b/file"), "4444:4343")
  }

  func testWriteReplacesALinkAndRefusesALinkedFolder() throws {
    XCTAssertEqual(symlink(outside + "/target", inside + "/a/b/file"), -1, "exists already")
    try FileManager.default.removeItem(atPath: inside + "/a/b/file")
    XCTAssertEqual(symlink(outside + "/target", inside + "/a/b/file"), 0)
    let b = try Folder(path: inside).folder("a").folder("b")
    try b.write("file", Data("new\n".utf8), mode: 0o600)
    XCTAssertEqual(try String(contentsOfFile: outside + "/target", encoding: .utf8), "x\n", "the link's target is untouched")
    XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: inside + "/a/b/file"), "a regular file now")
    XCTAssertEqual(try String(contentsOfFile: inside + "/a/b/file", encoding: .utf8), "new\n")
    XCTAssertEqual((try FileManager.default.attributesOfItem(atPath: inside + "/a/b/file"))[.posixPermissions] as? Int, 0o600)

    XCTAssertEqual(symlink(outside, inside + "/linked"), 0)
    XCTAssertThrowsError(try Folder(path: inside).folder("linked")) {
      XCTAssertEqual(($0 as? OrchestratorError)?.code, .io)
      XCTAssertEqual("\($0)", "\(inside)/linked is a symbolic link; cthulhu does not write through links (remove it and apply again)")
    }
    XCTAssertThrowsError(try Folder(path: inside + "/linked"))
    XCTAssertThrowsError(try Folder(path: inside).folder("a").folder("b").folder("file")) {
      XCTAssertEqual("\($0)", "\(inside)/a/b/file exists and is not a folder")
    }
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside).sorted(), ["hard-target", "target"], "nothing made outside")
  }
}

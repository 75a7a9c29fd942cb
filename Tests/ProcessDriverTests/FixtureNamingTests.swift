import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// Every command finds its fixture the same four ways (issue 13): a
/// manifest argument, `-f MANIFEST`, `--fixture DIR`, or the current folder
/// (a fixture folder, or a folder with one manifest, `cthulhu.yaml` first,
/// or among several the only one applied). Mistakes are one `error:` line
/// with the fix, never a usage block. Process driver, loopback: no engine.
final class FixtureNamingTests: XCTestCase {
  var dir = ""
  var fixture = ""
  var manifest: String { dir + "/manifests/nodes.yaml" }
  var root: String { dir + "/manifests/cthulhu-fixture" }

  override func setUp() async throws {
    try Host.requireBusybox()
    fixture = Host.uniqueName("name")
    dir = try Host.tempDir(fixture)
    try FileManager.default.createDirectory(atPath: dir + "/manifests", withIntermediateDirectories: true)
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        count: 2
        command: ["\(Host.busybox)", "sh", "-c", "echo started $CTHULHU_NAME; exec \(Host.busybox) sleep 600"]

    """.write(toFile: manifest, atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    if FileManager.default.fileExists(atPath: root) { _ = try? run(["destroy", "--fixture", root]) }
    Host.killLeftovers(fixture: fixture)
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  func run(_ args: [String], in folder: String? = nil) throws -> Host.Run {
    try Host.run(Host.cthulhuBinary, args, in: folder ?? dir)
  }

  func ok(_ args: [String], in folder: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let r = try run(args, in: folder)
    XCTAssertEqual(r.status, 0, "cthulhu \(args.joined(separator: " ")) in \(folder ?? dir): \(r.stdout)\(r.stderr)", file: file, line: line)
    return r.stdout
  }

  func testEveryCommandFindsTheFixtureTheSameFourWays() throws {
    _ = try ok(["apply", "manifests/nodes.yaml"])
    // Each way of naming it, and where it is run from.
    let ways: [(args: [String], folder: String)] = [
      (["manifests/nodes.yaml"], dir),
      (["-f", "manifests/nodes.yaml"], dir),
      (["--fixture", root], "/"),
      ([], root),
      ([], dir + "/manifests"),
    ]
    for way in ways {
      let what = "\(way.args) in \(way.folder)"
      XCTAssertTrue(try ok(["status"] + way.args, in: way.folder).contains("i002"), what)
      XCTAssertTrue(try ok(["logs"] + way.args + ["i001"], in: way.folder).contains("started i001"), what)
      XCTAssertTrue(try ok(["events"] + way.args, in: way.folder).contains("create"), what)
      XCTAssertEqual(try ok(["faults"] + way.args, in: way.folder), "No faults.\n", what)
      XCTAssertEqual(try ok(["stop"] + way.args + ["i002"], in: way.folder), "stop: i002\n", what)
      XCTAssertEqual(try ok(["start"] + way.args + ["i002"], in: way.folder), "start: i002\n", what)
      XCTAssertEqual(try ok(["exec"] + way.args + ["i001", "--", Host.busybox, "echo", "in"], in: way.folder), "in\n", what)
      XCTAssertTrue(try ok(["plan"] + way.args, in: way.folder).contains("No changes"), what)
    }
    // A folder with several manifests: the one whose fixture exists.
    try "fixture: other\ndriver: process\ngroups: {a: {command: [sleep, '1']}}\n".write(
      toFile: dir + "/manifests/other.yaml", atomically: true, encoding: .utf8)
    XCTAssertTrue(try ok(["status"], in: dir + "/manifests").contains("i001"))
    _ = try ok(["destroy"], in: dir + "/manifests")
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    // None applied now: which one is meant cannot be told, and the error says how to say it.
    let r = try run(["status"], in: dir + "/manifests")
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(
      r.stderr, "error: this folder holds 2 manifests (nodes.yaml, other.yaml) and none of them has a fixture: name one, e.g. `-f nodes.yaml`\n")
  }

  func testMistakesAreOneLineWithTheFixAndNoUsageBlock() throws {
    let empty = try Host.tempDir("empty")
    defer { try? FileManager.default.removeItem(atPath: empty) }
    let cases: [[String]] = [["status"], ["logs"], ["stop", "i001"], ["loss", "200", "i001"], ["status", "--bogus"], ["exec", "i001"]]
    for args in cases {
      let r = try run(args, in: empty)
      XCTAssertNotEqual(r.status, 0, "\(args)")
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.stderr.hasPrefix("error: "), "\(args): \(r.stderr)")
      XCTAssertFalse(r.stderr.contains("USAGE"), "\(args): \(r.stderr)")
    }
    XCTAssertTrue(try run(["status"], in: empty).stderr.contains("name one with a manifest"))
  }

  func testASavedPlanOfAnotherVersionIsRefusedInOneSentence() throws {
    let saved = dir + "/plan.json"
    _ = try ok(["plan", "manifests/nodes.yaml", "--out", saved])
    var doc = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: saved)!) as! [String: Any]
    doc["formatVersion"] = 99
    try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: saved))
    let r = try run(["apply", saved])
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(
      r.stderr,
      "error: \(saved) is a plan of format version 99; this cthulhu reads version \(Orchestrator.Plan.currentFormatVersion): run `cthulhu plan --out` again\n"
    )
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "nothing was applied")
  }
}

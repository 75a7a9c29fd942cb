import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// cthulhu removes only what it made (issue 12), through the built binary
/// on the process driver (loopback mode: no engine, no root needed).
///
/// Every folder here is inside this test's own temporary folder: the
/// "system folder" a manifest names is a stand-in made by the test, so a
/// regression in cthulhu can at worst remove the test's own files. Each
/// test checks that what cthulhu did not make is still there byte for byte.
final class OwnershipTests: XCTestCase {
  var dir = ""
  var fixture = ""

  override func setUp() async throws {
    try Host.requireBusybox()
    fixture = Host.uniqueName("own")
    dir = try Host.tempDir(fixture)
  }

  override func tearDown() async throws {
    Host.killLeftovers(fixture: fixture)
    try? FileManager.default.removeItem(atPath: ProcessRegistry.folder(environment: ProcessInfo.processInfo.environment) + "/" + fixture)
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  /// Writes a manifest of `count` sleeping instances at `path` with `root:` as given.
  @discardableResult
  func writeManifest(at path: String, root: String?, count: Int = 2) throws -> String {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try """
    fixture: \(fixture)
    driver: process
    \(root.map { "root: \"\($0)\"" } ?? "")
    groups:
      node:
        count: \(count)
        command: ["\(Host.busybox)", "sleep", "600"]
        mounts: { etc: /etc/app, var: /var/app }

    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func cthulhu(_ args: [String], in folder: String? = nil) throws -> Host.Run {
    try Host.run(Host.cthulhuBinary, args, in: folder ?? dir)
  }

  func mustSucceed(_ args: [String], in folder: String? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> Host.Run {
    let r = try cthulhu(args, in: folder)
    XCTAssertEqual(r.status, 0, "cthulhu \(args.joined(separator: " ")): \(r.stdout)\(r.stderr)", file: file, line: line)
    return r
  }

  /// Every file, folder and link below `folder`: path → kind and content.
  func snapshot(_ folder: String) throws -> [String: String] {
    var out: [String: String] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: folder) else { return out }
    while let rel = walker.nextObject() as? String {
      let full = folder + "/" + rel
      var st = stat()
      guard lstat(full, &st) == 0 else { continue }
      switch st.st_mode & S_IFMT {
      case S_IFLNK: out[rel] = "link " + (try fm.destinationOfSymbolicLink(atPath: full))
      case S_IFDIR: out[rel] = "dir \(st.st_mode & 0o7777)"
      default: out[rel] = "file \(st.st_mode & 0o7777) " + Hashing.sha256(fm.contents(atPath: full) ?? Data())
      }
    }
    return out
  }

  /// A folder of "someone else's" files: two files and a subfolder.
  func makeForeign(_ folder: String) throws {
    try FileManager.default.createDirectory(atPath: folder + "/src", withIntermediateDirectories: true)
    try "remember the milk\n".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
    try "int main() {}\n".write(toFile: folder + "/src/main.c", atomically: true, encoding: .utf8)
  }

  func liveInstances() -> [Int32] { Host.processes(fixture: fixture) }

  // MARK: - apply adopts a root only if it is missing, empty, or this fixture's

  func testARootThatHoldsTheManifestIsRefusedAndNothingChanges() throws {
    // `root: ..` in x/repo/cthulhu.yaml, where x also holds notes.txt and src/.
    let x = dir + "/x"
    try makeForeign(x)
    let manifest = try writeManifest(at: x + "/repo/cthulhu.yaml", root: "..")
    let before = try snapshot(x)
    for verb in ["plan", "apply"] {
      let r = try cthulhu([verb, manifest])
      XCTAssertEqual(r.status, 1, "\(verb): \(r.stdout)\(r.stderr)")
      XCTAssertTrue(r.stderr.contains("\(x) contains the manifest"), r.stderr)
      XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one sentence: \(r.stderr)")
    }
    // destroy finds nothing of cthulhu's there and removes nothing.
    let d = try cthulhu(["destroy", manifest])
    XCTAssertEqual(d.status, 0, d.stderr)
    XCTAssertTrue(d.stdout.contains("Nothing to destroy"), d.stdout)
    XCTAssertEqual(try snapshot(x), before)
    XCTAssertTrue(liveInstances().isEmpty)
  }

  func testAFolderWithOtherFilesIsRefusedAndNothingChanges() throws {
    // A stand-in for `root: /etc`: an existing folder full of someone's files.
    let system = dir + "/etc-standin"
    try makeForeign(system)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: system)
    let before = try snapshot(system)
    let r = try cthulhu(["apply", manifest])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("\(system) already holds 2 entries (notes.txt, src/)"), r.stderr)
    XCTAssertEqual(try snapshot(system), before)
    XCTAssertFalse(FileManager.default.fileExists(atPath: system + "/.cthulhu"))
    // destroy, by manifest and by folder, leaves it alone.
    XCTAssertTrue(try mustSucceed(["destroy", manifest]).stdout.contains("Nothing to destroy"))
    XCTAssertTrue(try mustSucceed(["destroy", "--fixture", system]).stdout.contains("Nothing to destroy"))
    XCTAssertEqual(try snapshot(system), before)
    XCTAssertTrue(liveInstances().isEmpty)
  }

  func testARootThatIsALinkIsRefusedAndItsTargetUntouched() throws {
    let target = dir + "/target"
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: dir + "/fixture-link", withDestinationPath: target)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: dir + "/fixture-link")
    let r = try cthulhu(["apply", manifest])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("is a symbolic link"), r.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: target), [])
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/fixture-link"), target)
  }

  func testAnEmptyFolderIsAdoptedAndWhatOthersLeftInItIsKept() throws {
    let root = dir + "/existing"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: root)
    _ = try mustSucceed(["apply", manifest])
    XCTAssertEqual(liveInstances().count, 2)
    // A test leaves its results and a copied log in the fixture folder.
    try "3 passed\n".write(toFile: root + "/results.txt", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: root + "/notes", withIntermediateDirectories: true)
    try "i001 was slow\n".write(toFile: root + "/notes/i001.txt", atomically: true, encoding: .utf8)
    let theirs = try snapshot(root).filter { $0.key.hasPrefix("results.txt") || $0.key.hasPrefix("notes") }
    // A second apply still adopts it: it holds this fixture.
    _ = try mustSucceed(["apply", manifest])
    let d = try mustSucceed(["destroy", manifest])
    XCTAssertTrue(d.stdout.contains("Kept 2 entries cthulhu did not make: notes/, results.txt"), d.stdout)
    XCTAssertEqual(try snapshot(root), theirs, "only what others left remains, byte for byte")
    XCTAssertTrue(liveInstances().isEmpty)
  }

  func testAnEmptyFolderThatExistedIsLeftInPlace() throws {
    let root = dir + "/existing"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: root)
    _ = try mustSucceed(["apply", manifest])
    _ = try mustSucceed(["destroy", manifest])
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [], "emptied, not removed: cthulhu did not make it")
  }

  func testARootCthulhuMadeIsRemovedUnlessOthersLeftFilesInIt() throws {
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil)
    let root = dir + "/project/cthulhu-fixture"
    _ = try mustSucceed(["apply", manifest])
    XCTAssertTrue(try mustSucceed(["destroy", manifest]).stdout.contains("removed \(root)"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    XCTAssertTrue(FileManager.default.fileExists(atPath: manifest), "the manifest's own folder stays")

    _ = try mustSucceed(["apply", manifest])
    try "keep me\n".write(toFile: root + "/results.txt", atomically: true, encoding: .utf8)
    let d = try mustSucceed(["destroy", manifest])
    XCTAssertTrue(d.stdout.contains("Kept 1 entry cthulhu did not make: results.txt"), d.stdout)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["results.txt"])
    XCTAssertEqual(try String(contentsOfFile: root + "/results.txt", encoding: .utf8), "keep me\n")
  }

  func testKeepFilesKeepsTheInstancesFilesAndALaterApplyAndDestroyCleanUp() throws {
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil)
    let root = dir + "/project/cthulhu-fixture"
    _ = try mustSucceed(["apply", manifest])
    let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")
    let d = try mustSucceed(["destroy", "--keep-files", manifest])
    XCTAssertTrue(d.stdout.contains("kept \(root)"), d.stdout)
    XCTAssertTrue(liveInstances().isEmpty)
    XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/\(ip)/bindmounts/var"))
    _ = try mustSucceed(["apply", manifest])
    XCTAssertEqual(liveInstances().count, 2)
    _ = try mustSucceed(["destroy", manifest])
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
  }

  // MARK: - destroy without the state file

  func testDestroyWithoutAUsableStateFindsTheFixtureByLabel() throws {
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil, count: 3)
    let root = dir + "/project/cthulhu-fixture"
    let state = root + "/.cthulhu/state.json"
    let cases: [(String, () throws -> Void, [String])] = [
      ("moved away", { try FileManager.default.moveItem(atPath: state, toPath: self.dir + "/state.json.moved") }, ["destroy", manifest]),
      ("unreadable", { try "{ not json".write(toFile: state, atomically: true, encoding: .utf8) }, ["destroy", "--fixture", root]),
      ("deleted, by folder", { try FileManager.default.removeItem(atPath: state) }, ["destroy", "--fixture", root]),
      ("deleted, by name", { try FileManager.default.removeItem(atPath: state) }, ["destroy", "--fixture-name", fixture]),
    ]
    for (what, breakState, destroy) in cases {
      try? FileManager.default.removeItem(atPath: dir + "/state.json.moved")
      _ = try mustSucceed(["apply", manifest])
      XCTAssertEqual(liveInstances().count, 3, what)
      try "mine\n".write(toFile: root + "/results.txt", atomically: true, encoding: .utf8)
      try breakState()
      let d = try mustSucceed(destroy)
      XCTAssertTrue(d.stdout.contains("Destroyed fixture '\(fixture)': 3 instance(s)"), "\(what): \(d.stdout)\(d.stderr)")
      XCTAssertTrue(d.stdout.contains("Found by label"), "\(what): \(d.stdout)")
      XCTAssertTrue(liveInstances().isEmpty, "\(what): no process of the fixture is left")
      let registry = ProcessRegistry(folder: ProcessRegistry.folder(environment: ProcessInfo.processInfo.environment))
      XCTAssertTrue(registry.instances(fixture: fixture).isEmpty, what)
      XCTAssertNil(registry.network(fixture: fixture), what)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), ["results.txt"], "\(what): cthulhu's files gone, the other kept")
      try FileManager.default.removeItem(atPath: root)
    }
  }

  // MARK: - a forged state or swapped links never reach outside the root

  func testAForgedStateNeverRemovesAnythingOutsideTheRoot() throws {
    let outside = dir + "/outside"
    try makeForeign(outside)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil)
    let root = dir + "/project/cthulhu-fixture"
    let project = try snapshot(dir + "/project").filter { !$0.key.hasPrefix("cthulhu-fixture") }
    let before = try snapshot(outside)
    let statePath = root + "/.cthulhu/state.json"
    let forgeries: [(String, (inout [String: Any]) -> Void)] = [
      ("entries that climb out", { $0["entries"] = ["..", "../outside", "/", "../../outside/notes.txt"] }),
      (
        "a root elsewhere",
        {
          $0["root"] = outside; $0["createdRoot"] = true
        }
      ),
      ("a fixture name that is a path", { $0["fixture"] = "../../../outside" }),
      (
        "an instance name that is a path",
        {
          var list = $0["instances"] as! [[String: Any]]
          list[0]["name"] = "../outside"
          $0["instances"] = list
        }
      ),
    ]
    for (what, forge) in forgeries {
      _ = try mustSucceed(["apply", manifest])
      var doc = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: statePath)!) as! [String: Any]
      forge(&doc)
      try JSONSerialization.data(withJSONObject: doc).write(to: URL(fileURLWithPath: statePath))
      let d = try cthulhu(["destroy", "--fixture", root])
      XCTAssertEqual(d.status, 0, "\(what): \(d.stdout)\(d.stderr)")
      XCTAssertEqual(try snapshot(outside), before, "\(what): nothing outside the root changed")
      XCTAssertEqual(try snapshot(dir + "/project").filter { !$0.key.hasPrefix("cthulhu-fixture") }, project, what)
      XCTAssertTrue(liveInstances().isEmpty, what)
      if FileManager.default.fileExists(atPath: root) { try FileManager.default.removeItem(atPath: root) }
    }
  }

  func testLinksSwappedInTheFixtureAreRemovedAsLinksNeverFollowed() throws {
    let outside = dir + "/outside"
    try makeForeign(outside)
    let before = try snapshot(outside)
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil)
    let root = dir + "/project/cthulhu-fixture"
    _ = try mustSucceed(["apply", manifest])
    let ip1 = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")
    let ip2 = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i002")
    // An instance folder replaced by a link to someone's folder, a link
    // retargeted there, and a folder inside an instance swapped for a link.
    try FileManager.default.removeItem(atPath: root + "/" + ip1)
    try FileManager.default.createSymbolicLink(atPath: root + "/" + ip1, withDestinationPath: outside)
    try FileManager.default.removeItem(atPath: root + "/i002")
    try FileManager.default.createSymbolicLink(atPath: root + "/i002", withDestinationPath: outside)
    try FileManager.default.removeItem(atPath: root + "/\(ip2)/bindmounts/etc")
    try FileManager.default.createSymbolicLink(atPath: root + "/\(ip2)/bindmounts/etc", withDestinationPath: outside + "/src")
    _ = try mustSucceed(["destroy", manifest])
    XCTAssertEqual(try snapshot(outside), before)
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
    XCTAssertTrue(liveInstances().isEmpty)
  }

  // MARK: - spec.json in the original tool's shape

  func testSpecJSONIsKeyedByInstanceNameAsTheOriginalWroteIt() throws {
    let manifest = try writeManifest(at: dir + "/project/cthulhu.yaml", root: nil, count: 3)
    let root = dir + "/project/cthulhu-fixture"
    _ = try mustSucceed(["apply", manifest])
    let spec = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/spec.json")!) as! [String: Any]
    XCTAssertEqual(spec.keys.sorted(), ["i001", "i002", "i003"], "nothing but instances at the top level")
    for name in ["i001", "i002", "i003"] {
      let entry = spec[name] as! [String: Any]
      let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name)
      XCTAssertEqual(entry["ip"] as? String, ip)
      XCTAssertEqual(entry["root"] as? String, root + "/" + ip)
      XCTAssertTrue(entry["port"] is NSNull, "no published port: null")
      XCTAssertEqual(entry["group"] as? String, "node")
    }
    let info = try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: root + "/fixture.json")!) as! [String: Any]
    XCTAssertEqual(info["fixture"] as? String, fixture)
    XCTAssertEqual(info["instances"] as? [String], ["i001", "i002", "i003"])
    XCTAssertEqual(info["driver"] as? String, "process")
  }
}

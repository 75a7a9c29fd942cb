import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// Hostile input that reaches the host (issue #7), through the built binary
/// with the process driver: shell metacharacters, quotes and newlines in
/// values that become files, environment, the fixture folder's path and its
/// control scripts arrive literally and are never run; a fixture folder whose
/// `etc` was replaced by a link is never written through.
final class HostileFixtureTests: XCTestCase {
  var dir = ""
  var fixture = ""
  var tag = ""
  var roots: [String] = []
  var cleanup: [String] = []

  override func setUp() async throws {
    try Host.requireBusybox()
    fixture = Host.uniqueName("hostile")
    tag = String(UUID().uuidString.prefix(8)).lowercased()
    dir = try Host.tempDir(fixture)
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
  }

  override func tearDown() async throws {
    for root in roots where FileManager.default.fileExists(atPath: root) { _ = try? cthulhu("destroy", "--fixture", root) }
    Host.killLeftovers(fixture: fixture)
    try? FileManager.default.removeItem(atPath: ProcessRegistry.folder(environment: ProcessInfo.processInfo.environment) + "/" + fixture)
    for p in cleanup + [dir] { try? FileManager.default.removeItem(atPath: p) }
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Host.Run { try Host.run(Host.cthulhuBinary, args, in: dir) }

  /// A YAML double-quoted scalar holding `s` exactly.
  func yaml(_ s: String) -> String {
    "\""
      + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
      .replacingOccurrences(of: "\n", with: "\\n") + "\""
  }

  /// Files that would exist if a value had been run by a shell.
  func markers(_ n: Int) -> [String] { (1...n).map { "/tmp/cthulhu-pwned-\(tag)-\($0)" } }

  func testShellMetacharactersReachFilesEnvAndControlScriptsLiterallyAndNeverRun() async throws {
    let m = markers(8)
    cleanup += m
    let evil = "$(touch \(m[0])) `touch \(m[1])`; touch \(m[2]) | touch \(m[3]) && 'single' \"double\" \\back\nline2 $HOME"
    let rootName = "fx $(touch \(m[4])) `touch \(m[5])`; 'q\" touch \(m[6]) &\nx"
    let root = dir + "/" + rootName
    roots.append(root)
    try "{{ vars.evil }}".write(toFile: dir + "/templates/evil.txt", atomically: true, encoding: .utf8)
    try """
    fixture: \(fixture)
    driver: process
    root: \(yaml(rootName))
    vars: { evil: \(yaml(evil)) }
    groups:
      node:
        command: ["\(Host.busybox)", "sh", "-c", "printenv EVIL > \\"$CTHULHU_MOUNT_ETC/env.txt\\"; exec \(Host.busybox) sleep 1000"]
        env: { EVIL: \(yaml(evil)) }
        templates:
          - { source: templates/evil.txt, target: etc/evil.txt }
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)

    let apply = try cthulhu("apply")
    XCTAssertEqual(apply.status, 0, apply.stdout + apply.stderr)
    let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")
    let etc = root + "/" + ip + "/bindmounts/etc"
    try await Host.eventually("the instance wrote its environment", within: 15) {
      FileManager.default.fileExists(atPath: etc + "/env.txt")
    }
    XCTAssertEqual(try String(contentsOfFile: etc + "/evil.txt", encoding: .utf8), evil, "template value, literally")
    // printenv may still be writing: wait for the whole value.
    try await Host.eventually("env.txt holds the whole value", within: 5) {
      (try? String(contentsOfFile: etc + "/env.txt", encoding: .utf8)) == evil + "\n"
    }
    XCTAssertEqual(try String(contentsOfFile: etc + "/env.txt", encoding: .utf8), evil + "\n", "environment, literally")

    // The control scripts run from a folder whose path is full of shell syntax.
    let fixtureStatus = try Host.run(root + "/control", ["status"], env: ["CTHULHU_BIN": Host.cthulhuBinary])
    XCTAssertEqual(fixtureStatus.status, 0, fixtureStatus.stdout + fixtureStatus.stderr)
    XCTAssertTrue(fixtureStatus.stdout.contains("i001"), fixtureStatus.stdout)
    let instanceStatus = try Host.run(root + "/i001/control", ["status"], env: ["CTHULHU_BIN": Host.cthulhuBinary])
    XCTAssertEqual(instanceStatus.status, 0, instanceStatus.stdout + instanceStatus.stderr)
    let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/fixture.json"))) as? [String: Any]
    XCTAssertEqual(info?["root"] as? String, root)

    let destroy = try cthulhu("destroy", "--fixture", root)
    XCTAssertEqual(destroy.status, 0, destroy.stdout + destroy.stderr)
    for marker in m { XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(marker): a value was run by a shell") }
    XCTAssertEqual(Host.processes(fixture: fixture), [])
  }

  /// `<ip>/bindmounts/etc` replaced by a link to a folder outside the fixture
  /// (a temporary stand-in for `/etc`): apply refuses, names the link, and
  /// writes nothing through it; with the link gone the next apply converges.
  func testAnEtcFolderReplacedByALinkIsNeverWrittenThrough() async throws {
    let root = dir + "/cthulhu-fixture"
    roots.append(root)
    let outside = try Host.tempDir("fake-etc")
    cleanup.append(outside)
    try "precious\n".write(toFile: outside + "/passwd", atomically: true, encoding: .utf8)
    try "v1 {{ instance.name }}\n".write(toFile: dir + "/templates/config", atomically: true, encoding: .utf8)
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        command: ["\(Host.busybox)", "sleep", "1000"]
        templates:
          - { source: templates/config, target: etc/config }
          - { source: templates/config, target: etc/passwd }
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let first = try cthulhu("apply")
    XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
    let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")
    let etc = root + "/" + ip + "/bindmounts/etc"
    XCTAssertEqual(try String(contentsOfFile: etc + "/config", encoding: .utf8), "v1 i001\n")

    func snapshot() throws -> [String: Data] {
      var s: [String: Data] = [:]
      for name in try FileManager.default.contentsOfDirectory(atPath: outside) {
        s[name] = FileManager.default.contents(atPath: outside + "/" + name)
      }
      return s
    }
    try FileManager.default.removeItem(atPath: etc)
    try FileManager.default.createSymbolicLink(atPath: etc, withDestinationPath: outside)
    let before = try snapshot()
    // The template changes, so apply has files to write into etc.
    try "v2 {{ instance.name }}\n".write(toFile: dir + "/templates/config", atomically: true, encoding: .utf8)

    let refused = try cthulhu("apply")
    XCTAssertNotEqual(refused.status, 0, refused.stdout)
    XCTAssertTrue(refused.stderr.contains(etc) && refused.stderr.contains("symbolic link"), refused.stderr)
    XCTAssertFalse(refused.stderr.contains("Fatal error") || refused.stderr.contains("Stack dump"), refused.stderr)
    XCTAssertEqual(try snapshot(), before, "nothing was written through the link")
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: etc), outside, "the link itself is left for the user")

    // A file replaced by a link is replaced, never followed.
    try FileManager.default.removeItem(atPath: etc)
    try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
    try FileManager.default.createSymbolicLink(atPath: etc + "/passwd", withDestinationPath: outside + "/passwd")
    let repaired = try cthulhu("apply")
    XCTAssertEqual(repaired.status, 0, repaired.stdout + repaired.stderr)
    XCTAssertEqual(try snapshot(), before, "the link's target is untouched")
    XCTAssertEqual(try String(contentsOfFile: etc + "/config", encoding: .utf8), "v2 i001\n")
    XCTAssertEqual(try String(contentsOfFile: etc + "/passwd", encoding: .utf8), "v2 i001\n")
    XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: etc + "/passwd"), "a regular file now")
  }
}

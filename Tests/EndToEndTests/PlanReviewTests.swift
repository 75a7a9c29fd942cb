import Foundation
import TestSupport
import XCTest

/// `plan --against-git` and `plan --against` through the binary, with no
/// engine reachable and no fixture (issue 18): what a reviewer's CI job runs.
final class PlanReviewTests: XCTestCase {
  var dir = ""
  let noEngine = ["DOCKER_HOST": "unix:///nonexistent/docker.sock"]

  override func setUpWithError() throws {
    dir = try Harness.tempDir("review")
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try "{\"self\": \"{{ instance.ip }}\", \"peers\": [{% for p in peers %}\"{{ p.ip }}\"{% if not forloop.last %}, {% endif %}{% endfor %}]}\n"
      .write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
    try git("init", "-q")
  }

  override func tearDownWithError() throws { if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) } }

  @discardableResult
  func git(_ args: String...) throws -> Run {
    let r = try Harness.run("/usr/bin/git", ["-c", "user.email=t@example.invalid", "-c", "user.name=t"] + args, in: dir)
    XCTAssertEqual(r.status, 0, "git \(args): \(r.stderr)")
    return r
  }

  func commit(count: Int, comment: String = "", message: String) throws {
    try """
    # \(comment)
    fixture: kv
    groups:
      node:
        image: app:1
        count: \(count)
        templates:
          - { source: templates/config.json, target: etc/config.json }

    """.write(toFile: dir + "/cluster.yaml", atomically: true, encoding: .utf8)
    try git("add", "-A")
    try git("commit", "-q", "-m", message)
  }

  func testTheLastCommitsTopologyChangeAsMarkdownWithNoEngine() throws {
    try Harness.require(FileManager.default.isExecutableFile(atPath: "/usr/bin/git"), "git is missing")
    try commit(count: 3, message: "three nodes")
    try commit(count: 5, message: "five nodes")
    var r = try Harness.cthulhu(["plan", "--against-git", "HEAD~1", "cluster.yaml", "--format", "markdown"], in: dir, env: noEngine)
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(
      r.stdout.hasPrefix("### cthulhu plan: `cluster.yaml since HEAD~1` (fixture `kv`)\n\n**Plan: 2 to add, 3 to change, 0 to destroy.**"), r.stdout)
    XCTAssertTrue(r.stdout.contains("| `+` | `instance:i005` | create |"), r.stdout)
    XCTAssertTrue(r.stdout.contains("```diff\n"), r.stdout)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture"), "a review plan writes nothing")

    // A commit that does not change the topology.
    try commit(count: 5, comment: "five is enough", message: "a comment")
    r = try Harness.cthulhu(["plan", "--against-git", "HEAD~1", "cluster.yaml", "--format", "markdown"], in: dir, env: noEngine)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.hasSuffix("No changes to the topology.\n"), r.stdout)

    // A template changed in the commit, the manifest did not: the old side reads the old template.
    try "{\"self\": \"{{ instance.ip }}\"}\n".write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
    try git("commit", "-q", "-am", "template")
    r = try Harness.cthulhu(["plan", "--against-git", "HEAD~1", "cluster.yaml"], in: dir, env: noEngine)
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Plan: 0 to add, 5 to change, 0 to destroy."), r.stdout)
    XCTAssertTrue(r.stdout.contains("-{\"self\": \""), r.stdout)

    // Against a revision where the manifest did not exist: everything is new.
    try FileManager.default.copyItem(atPath: dir + "/cluster.yaml", toPath: dir + "/other.yaml")
    try git("add", "other.yaml")
    try git("commit", "-q", "-m", "another manifest")
    r = try Harness.cthulhu(["plan", "--against-git", "HEAD~1", "other.yaml", "--format", "markdown"], in: dir, env: noEngine)
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("`other.yaml since HEAD~1 (a new manifest)`"), r.stdout)
    XCTAssertTrue(r.stdout.contains("**Plan: 5 to add, 0 to change, 0 to destroy.**"), r.stdout)
    let bad = try Harness.cthulhu(["plan", "--against-git", "no-such-rev", "cluster.yaml"], in: dir, env: noEngine)
    XCTAssertEqual(bad.status, 1)
    XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
  }

  func testTwoFilesWithNoEngine() throws {
    try commit(count: 2, message: "two")
    try FileManager.default.copyItem(atPath: dir + "/cluster.yaml", toPath: dir + "/old.yaml")
    try commit(count: 1, message: "one")
    let r = try Harness.cthulhu(["plan", "--against", "old.yaml", "cluster.yaml"], in: dir, env: noEngine)
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("-   instance:i002  delete\n        # group 'node' scaled down to 1"), r.stdout)
  }
}

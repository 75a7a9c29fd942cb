import Foundation
import TestSupport
import XCTest

/// `plan` and `apply` of the built binary on a group with `membership:`
/// (host processes on loopback; the cluster is a file of names the
/// commands edit): the plan text and JSON show the join steps, apply runs
/// them, and a join that never commits fails the apply with the instance
/// named and its instance not made.
final class MembershipCLITests: XCTestCase {
  func testPlanShowsJoinsAndApplyMakesThem() throws {
    try Host.requireBusybox()
    let dir = try Host.tempDir("member-cli")
    let fixture = Host.uniqueName("mem")
    defer {
      _ = try? Harness.cthulhu(["destroy"], in: dir)
      Host.killLeftovers(fixture: fixture)
      try? FileManager.default.removeItem(atPath: dir)
    }
    func write(count: Int, join: String) throws {
      try """
      fixture: \(fixture)
      driver: process
      groups:
        node:
          count: \(count)
          command: ["\(Host.busybox)", "sleep", "600"]
          membership:
            join: [/bin/sh, -c, "\(join)"]
            leave: [/bin/sh, -c, "grep -vx {{ instance.name }} ../members > ../m; mv ../m ../members"]
            view: [cat, ../members]
            timeout: 2s
            attempts: 2

      """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    }
    try "i001\ni002\n".write(toFile: dir + "/members", atomically: true, encoding: .utf8)
    let add = "echo {{ instance.name }} >> ../members"
    try write(count: 2, join: add)
    var r = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(r.status, 0, r.stderr)

    try write(count: 3, join: "echo no quorum >&2; exit 1")
    r = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(r.status, 1, r.stdout)
    XCTAssertTrue(
      r.stderr.contains("error: member:i003: join of instance i003 (group 'node') did not commit after 2 attempt(s); last: through i002: "),
      r.stderr)
    XCTAssertTrue(r.stderr.contains("exited 1: no quorum"), r.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture/i003"), "i003 was not made")

    try write(count: 3, join: add)
    r = try Harness.cthulhu(["plan"], in: dir)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("  +   member:i003  join (through i001, i002)\n"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Plan: 1 to add, 0 to change, 0 to destroy."), r.stdout)
    r = try Harness.cthulhu(["plan", "--json"], in: dir)
    let plan = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let steps = try XCTUnwrap(plan["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.map { $0["target"] as? String }, ["member:i003", "instance:i003"])
    XCTAssertEqual(steps.first?["action"] as? String, "join")
    XCTAssertEqual(steps.first?["group"] as? String, "node")
    XCTAssertEqual((steps.first?["members"] as? [[String: Any]])?.map { $0["name"] as? String }, ["i001", "i002"])
    XCTAssertEqual(steps.last?["dependsOn"] as? [String], ["member:i003"])
    r = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(try String(contentsOfFile: dir + "/members", encoding: .utf8), "i001\ni002\ni003\n")
    XCTAssertEqual(try Harness.cthulhu(["plan", "--detailed-exitcode"], in: dir).status, 0, "converged")
  }
}

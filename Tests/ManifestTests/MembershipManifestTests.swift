import Foundation
import XCTest

@testable import Manifest

/// `membership:` of a group: its commands, timeout and attempts decoded,
/// and every mistake reported at the node that makes it.
final class MembershipManifestTests: XCTestCase {
  func testMembershipDecodesCommandsAndDefaults() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: t
      groups:
        db:
          image: x
          count: 3
          membership:
            join: [etcdctl, --endpoints, "http://{{ member.ip }}:2379", member, add, "{{ instance.name }}"]
            leave: "etcdctl member remove {{ instance.name }}"
            view: [sh, -c, "cat members"]
        plain:
          image: x

      """, in: dir)
    let ms = try XCTUnwrap(m.groups[0].membership)
    XCTAssertEqual(ms.join, ["etcdctl", "--endpoints", "http://{{ member.ip }}:2379", "member", "add", "{{ instance.name }}"])
    XCTAssertEqual(ms.leave, ["/bin/sh", "-c", "etcdctl member remove {{ instance.name }}"])
    XCTAssertEqual(ms.view, ["sh", "-c", "cat members"])
    XCTAssertEqual(ms.timeout, .seconds(30))
    XCTAssertEqual(ms.attempts, 3)
    XCTAssertEqual(ms.location.line, 7, "the mapping's first key")
    XCTAssertNil(m.groups[1].membership)
    let tuned = try load(
      "fixture: t\ngroups:\n  db:\n    image: x\n    membership: {join: [a], leave: [b], view: [c], timeout: 5s, attempts: 7}\n", in: dir)
    XCTAssertEqual(tuned.groups[0].membership?.timeout, .seconds(5))
    XCTAssertEqual(tuned.groups[0].membership?.attempts, 7)
    XCTAssertNotEqual(tuned.groups[0], try load("fixture: t\ngroups:\n  db:\n    image: x\n", in: dir).groups[0])
  }

  func testMistakesAreReportedAtTheirNode() throws {
    let dir = try TempDir()
    let head = "fixture: t\ngroups:\n  db:\n    image: x\n"
    XCTAssertEqual(
      problems(head + "    membership: {join: [a], leave: [b]}\n", in: dir),
      ["5:17: 'membership' of group 'db' needs 'view' (a change that fails is resolved by reading 'view')"])
    XCTAssertEqual(
      problems(head + "    membership: {join: [a], leave: [b], view: [c], timout: 5s}\n", in: dir),
      ["5:52: unknown key 'timout' in 'membership' of group 'db'; did you mean 'timeout'?"])
    XCTAssertEqual(
      problems(head + "    membership: {join: [], leave: [b], view: [c]}\n", in: dir),
      ["5:24: 'membership.join' of group 'db' must not be empty"])
    let timeout = problems(head + "    membership: {join: [a], leave: [b], view: [c], timeout: soon}\n", in: dir)
    XCTAssertEqual(timeout.count, 1, "\(timeout)")
    XCTAssertTrue(timeout[0].hasPrefix("5:61: 'membership.timeout' of group 'db' must be a duration"), "\(timeout)")
    let attempts = problems(head + "    membership: {join: [a], leave: [b], view: [c], attempts: 0}\n", in: dir)
    XCTAssertEqual(attempts, ["5:62: 'membership.attempts' of group 'db' must be between 1 and 100, not 0"])
    XCTAssertEqual(
      problems(head + "    membership: [a]\n", in: dir), ["5:17: 'membership' of group 'db' must be a mapping, not a list"])
    XCTAssertEqual(
      problems(head + "    run_once: true\n    membership: {join: [a], leave: [b], view: [c]}\n", in: dir),
      ["6:17: 'membership' of group 'db': a run_once group's instances exit; they cannot be members of a cluster"])
  }
}

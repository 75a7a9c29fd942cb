import Foundation
import XCTest

@testable import Manifest

/// `grow: GROUP` and `shrink: GROUP` in `nemesis.faults`: their bounds'
/// defaults, and every mistake reported at its node.
final class NemesisMembershipDecodingTests: XCTestCase {
  /// A group `db` of 3 with membership and a group `web` of 2 without, then `nemesis`.
  static func manifest(_ nemesis: String) -> String {
    """
    fixture: t
    groups:
      db:
        image: x
        count: 3
        membership: {join: [j], leave: [l], view: [v]}
      web: {image: x, count: 2}
    nemesis:

    """ + nemesis
  }

  func testGrowAndShrinkDecodeWithTheirBoundsAndNoHeal() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
          faults:
            - { grow: db, every: 8s, after: 2s }
            - { shrink: db, min: 1, every: 8s, after: 6s, times: 4 }
            - { grow: db, max: 7 }
            - { shrink: db }

        """), in: dir)
    let faults = try XCTUnwrap(m.nemesis?.faults)
    XCTAssertEqual(
      faults.map(\.action),
      [.grow(group: "db", max: 5), .shrink(group: "db", min: 1), .grow(group: "db", max: 7), .shrink(group: "db", min: 2)])
    XCTAssertEqual(faults.map(\.lasting), [.zero, .zero, .zero, .zero])
    XCTAssertEqual(faults[0].every, .seconds(8))
    XCTAssertEqual(faults[0].after, .seconds(2))
    XCTAssertEqual(faults[1].times, 4)
    XCTAssertEqual(faults[0].targets.words, ["db"])
    XCTAssertTrue(faults.allSatisfy(\.action.isMembership))
  }

  func testEveryMistakeIsReportedAtItsNode() throws {
    let dir = try TempDir()
    let p = problems(
      Self.manifest(
        """
          faults:
            - { grow: web, every: 8s }
            - { shrink: dbb, every: 8s }
            - { grow: db, for: 5s }
            - { shrink: db, max: 4 }
            - { grow: db, min: 0, targets: i001 }
            - { shrink: db, min: 0 }
            - { grow: db, times: 3 }
            - { grow: db, every: 0s }

        """), in: dir)
    XCTAssertEqual(
      p,
      [
        "10:15: nemesis fault 1 grows group 'web', which has no 'membership' (nothing would tell its cluster of the change); give the group membership: { join: [...], leave: [...], view: [...] } (docs/membership.md)",
        "11:17: 'dbb' in nemesis fault 2 names no group (groups db, web); did you mean 'db'?",
        "12:19: a membership change has no 'for': it is made once and stays until a shrink or grow undoes it, or the end of the run restores the group's count",
        "13:21: 'max' is for grow, not shrink",
        "14:19: 'min' is for shrink, not grow",
        "14:27: the group of 'grow' is its value (grow: db), not 'targets'",
        "15:26: 'min' must be between 1 and 10000, not 0",
        "16:26: 'times: 3' repeats the change: give 'every' too (how often it comes back)",
        "17:26: 'every' must be longer than 0s",
      ])
  }
}

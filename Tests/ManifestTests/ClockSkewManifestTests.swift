import Foundation
import XCTest

@testable import Manifest

/// `clock_skew:` on a group: decoded, merged from `defaults:`, and refused
/// where it cannot work, at its line and column.
final class ClockSkewManifestTests: XCTestCase {
  func testClockSkewIsAGroupFlagThatDefaultsCanSet() throws {
    let dir = try TempDir()
    let m = try load(
      "fixture: t\ndefaults: {clock_skew: true}\ngroups:\n  a:\n    image: x\n  b:\n    image: x\n    clock_skew: false\n  c:\n    image: x\n",
      in: dir)
    XCTAssertEqual(m.groups.map(\.clockSkew), [true, false, true])
    XCTAssertFalse(try load("fixture: t\ngroups: {a: {image: x}}\n", in: dir).groups[0].clockSkew)
  }

  func testABadValueAndTheSwarmDriverAreErrorsAtTheKey() throws {
    let dir = try TempDir()
    let bad = problems("fixture: t\ngroups:\n  a:\n    image: x\n    clock_skew: sometimes\n", in: dir)
    XCTAssertEqual(bad.count, 1, "\(bad)")
    XCTAssertTrue(bad[0].hasPrefix("5:17: "), "\(bad)")
    XCTAssertTrue(bad[0].contains("clock_skew"), "\(bad)")
    let swarm = problems("fixture: t\ndriver: swarm\ngroups:\n  a:\n    image: x\n    clock_skew: true\n", in: dir)
    XCTAssertEqual(swarm.count, 1, "\(swarm)")
    XCTAssertTrue(swarm[0].hasPrefix("6:17: 'clock_skew' of group 'a': the swarm driver"), "\(swarm)")
  }
}

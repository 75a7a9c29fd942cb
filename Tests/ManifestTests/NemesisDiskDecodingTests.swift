import Foundation
import XCTest

@testable import Manifest

/// `disk_error` and `disk_delay` nemesis steps: their rule, checked as the
/// disk layer checks one, and targets whose groups have a mount with faults.
final class NemesisDiskDecodingTests: XCTestCase {
  static func manifest(_ faults: String) -> String {
    """
    fixture: t
    driver: process
    groups:
      a:
        command: [/bin/true]
        count: 2
        mounts: {data: {path: /data, faults: true}}
      b: {command: [/bin/true], count: 1}
    nemesis:
      faults:

    """ + faults
  }

  func testADiskErrorAndADiskDelayDecodeWithTheirRules() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
            - disk_error: ENOSPC
              targets: random 1 of a
              ops: [write, create]
              path: ^/wal/
              percent: 50%
              for: 5s
            - disk_delay: 50ms
              targets: a
              ops: fsync
              for: 1s

        """), in: dir)
    XCTAssertEqual(
      m.nemesis?.faults.map(\.action),
      [
        .disk(NemesisDiskRule(errno: DiskErrno("ENOSPC"), ops: [.write, .create], path: "^/wal/", percent: 50)),
        .disk(NemesisDiskRule(delay: .milliseconds(50), ops: [.fsync])),
      ])
    XCTAssertEqual(m.nemesis?.faults.map(\.action.keyword), ["disk_error", "disk_delay"])
  }

  func testEveryMistakeIsReportedAtItsNode() throws {
    let dir = try TempDir()
    let p = problems(
      Self.manifest(
        """
            - disk_error: EFOO
              targets: a
              for: 1s
            - disk_delay: 50ms
              targets: i003
              for: 1s
            - disk_delay: 2h
              targets: a
              ops: [write, frob]
              path: "("
              percent: 120
              for: 1s
            - disk_error: EIO
              for: 1s
            - kill: i001
              ops: write
              for: 1s

        """), in: dir)
    XCTAssertEqual(p.count, 8, p.joined(separator: "\n"))
    XCTAssertTrue(p[0].hasPrefix("11:19: 'EFOO' is not an error the disk layer returns (EPERM, ENOENT"), p[0])
    XCTAssertEqual(p[1], "15:16: nemesis fault 2 breaks the disk of i003, whose group 'b' has no mount with faults: true")
    XCTAssertEqual(p[2], "17:19: 'disk_delay' must be more than 0 and at most 1h")
    XCTAssertTrue(p[3].hasPrefix("19:12: 'frob' in 'ops' is not an operation (access, chmod"), p[3])
    XCTAssertTrue(p[4].hasPrefix("20:13: 'path' is not a regular expression"), p[4])
    XCTAssertEqual(p[5], "21:16: 'percent' must be a percentage from 0 to 100 such as 30 or 30%, not '120'")
    XCTAssertEqual(
      p[6], "23:19: nemesis fault 4 breaks the disk of every instance (no 'targets'), and group 'b' has no mount with faults: true; give 'targets'")
    XCTAssertEqual(p[7], "26:7: 'ops' is for disk_error, disk_delay, not kill")
  }
}

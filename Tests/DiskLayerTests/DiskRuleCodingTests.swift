import Foundation
import Manifest
import Orchestrator
import XCTest

/// The JSON of the control requests, as docs/disk-faults.md spells them.
final class DiskRuleCodingTests: XCTestCase {
  func decode(_ json: String) throws -> DiskLayerRequest { try JSONDecoder().decode(DiskLayerRequest.self, from: Data(json.utf8)) }

  func encode(_ request: DiskLayerRequest) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(request), as: UTF8.self)
  }

  func testTheRequestsAsDocumented() throws {
    let delay = try DiskFaultRule(.delay(.milliseconds(50)), ops: [.write, .read, .fsync], path: "^/wal/", percent: 25, seed: 7)
    let full = try DiskFaultRule(.error(.enospc), ops: [.write])
    let set = DiskLayerRequest.rules(.set([delay, full]))
    XCTAssertEqual(
      try decode(
        #"{"rules":{"set":[{"kind":"delay","delay":"50ms","ops":["read","write","fsync"],"path":"^/wal/","percent":25,"seed":7},"#
          + #"{"kind":"error","errno":"ENOSPC","ops":["write"]}]}}"#), set)
    // A delay in milliseconds, a percent as a string.
    XCTAssertEqual(
      try decode(
        #"{"rules":{"set":[{"kind":"delay","delay":50,"ops":["fsync","read","write"],"path":"^/wal/","percent":"25%","seed":7},"#
          + #"{"kind":"error","errno":"ENOSPC","ops":["write"],"percent":100,"seed":0}]}}"#), set)
    XCTAssertEqual(
      try encode(set),
      #"{"rules":{"set":[{"delay":"50ms","kind":"delay","ops":["fsync","read","write"],"path":"^/wal/","percent":25,"seed":7},"#
        + #"{"errno":"ENOSPC","kind":"error","ops":["write"],"percent":100,"seed":0}]}}"#)
    XCTAssertEqual(try decode(#"{"rules":{"add":[{"kind":"error","errno":"EIO"}]}}"#), .rules(.add([try DiskFaultRule(.error(.eio))])))
    XCTAssertEqual(try decode(#"{"rules":{"clear":{}}}"#), .rules(.clear))
    XCTAssertEqual(try encode(.rules(.clear)), #"{"rules":{"clear":{}}}"#)
    // The requests from before the rules are spelled as they were.
    XCTAssertEqual(try decode(#"{"status":{}}"#), .status)
    XCTAssertEqual(try encode(.status), #"{"status":{}}"#)
    XCTAssertEqual(try decode(#"{"loseUnsynced":{"torn":true,"seed":3}}"#), .loseUnsynced(torn: true, seed: 3))
    XCTAssertEqual(try encode(.loseUnsynced(torn: false, seed: 9)), #"{"loseUnsynced":{"seed":9,"torn":false}}"#)
    XCTAssertThrowsError(try decode(#"{"status":{},"rules":{"clear":{}}}"#))
    // A reply from a layer without rules has none.
    let old = #"{"status":{"unsyncedFiles":1,"savedBytes":2,"changedDirectories":3}}"#
    XCTAssertEqual(
      try JSONDecoder().decode(DiskLayerReply.self, from: Data(old.utf8)).status,
      DiskLayerStatus(unsyncedFiles: 1, savedBytes: 2, changedDirectories: 3))
  }

  func testRulesAreCheckedWhenMade() {
    XCTAssertThrowsError(try DiskFaultRule(.error(.eio), percent: 100.5)) { error in
      XCTAssertEqual(error as? DiskRuleError, DiskRuleError(rule: 1, field: "percent", problem: "100.5 is not from 0 to 100"))
    }
    XCTAssertThrowsError(try DiskFaultRule(.error(.eio), path: "[", rule: 3)) { error in
      XCTAssertEqual((error as? DiskRuleError)?.field, "path")
      XCTAssertEqual((error as? DiskRuleError)?.rule, 3)
    }
    XCTAssertThrowsError(try DiskFaultRule(.delay(.seconds(-1)))) { error in XCTAssertEqual((error as? DiskRuleError)?.field, "delay") }
  }

  /// The errno table holds Linux's numbers.
  func testErrnoNamesHaveLinuxNumbers() throws {
    let expected: [String: Int32] = [
      "EIO": EIO, "ENOSPC": ENOSPC, "EROFS": EROFS, "EDQUOT": EDQUOT, "EACCES": EACCES, "EPERM": EPERM, "ENOENT": ENOENT,
      "EEXIST": EEXIST, "EFBIG": EFBIG, "ETIMEDOUT": ETIMEDOUT, "ESTALE": ESTALE, "EOPNOTSUPP": EOPNOTSUPP, "ENOTEMPTY": ENOTEMPTY,
      "EAGAIN": EAGAIN, "EINTR": EINTR, "ENOMEM": ENOMEM, "EBUSY": EBUSY, "EXDEV": EXDEV, "ENXIO": ENXIO, "EBADF": EBADF,
      "ENODEV": ENODEV, "ENOTDIR": ENOTDIR, "EISDIR": EISDIR, "EINVAL": EINVAL, "ENFILE": ENFILE, "EMFILE": EMFILE,
      "EMLINK": EMLINK, "ENAMETOOLONG": ENAMETOOLONG, "ENOLCK": ENOLCK, "ELOOP": ELOOP,
    ]
    for (name, number) in expected { XCTAssertEqual(DiskErrno(name)?.number, number, name) }
    XCTAssertNil(DiskErrno("EFOO"))
  }
}

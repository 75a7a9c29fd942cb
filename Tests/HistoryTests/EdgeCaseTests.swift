import Foundation
import XCTest

@testable import History

/// Small histories whose verdict is known by hand.
final class EdgeCaseTests: XCTestCase {
  func testEmptyHistoryIsLinearizable() throws {
    XCTAssertEqual(try Checker.check(History(events: []), model: .casRegister).verdict, .linearizable)
  }

  func testReadOfInitialRegisterIsNull() throws {
    XCTAssertEqual(try verdict("0 invoke read null\n0 ok read null"), .linearizable)
    XCTAssertEqual(try verdict("0 invoke read null\n0 ok read 0"), .notLinearizable)
  }

  func testStaleReadAfterACompletedWrite() throws {
    let text = """
      0 invoke write 1
      0 ok write 1
      1 invoke write 2
      1 ok write 2
      2 invoke read null
      2 ok read 1
      """
    let report = try Checker.check(history(text), model: .casRegister)
    XCTAssertEqual(report.verdict, .notLinearizable)
    let v = try XCTUnwrap(report.violation)
    XCTAssertEqual(v.witness, [0, 1, 2], "both writes and the stale read")
    XCTAssertTrue(v.minimal)
    XCTAssertEqual(v.blocked, 2)
  }

  func testConcurrentReadAndWriteEitherWay() throws {
    let overlapping = """
      0 invoke write 1
      1 invoke read null
      1 ok read %@
      0 ok write 1
      """
    XCTAssertEqual(try verdict(overlapping.replacingOccurrences(of: "%@", with: "null")), .linearizable, "read before the write")
    XCTAssertEqual(try verdict(overlapping.replacingOccurrences(of: "%@", with: "1")), .linearizable, "read after the write")
    XCTAssertEqual(try verdict(overlapping.replacingOccurrences(of: "%@", with: "2")), .notLinearizable, "2 was never written")
  }

  func testUnknownWriteSeenMuchLater() throws {
    var text = "0 invoke write 1\n0 info write 1\n"
    for i in 0..<30 { text += "\(1 + i % 3) invoke read null\n\(1 + i % 3) ok read null\n" }
    text += "1 invoke read null\n1 ok read 1\n"
    XCTAssertEqual(try verdict(text), .linearizable, "an info write may take effect at any time after its invoke")
    text += "2 invoke read null\n2 ok read null\n"
    XCTAssertEqual(try verdict(text), .notLinearizable, "but once only: null cannot come back")
  }

  func testUnknownWriteCannotPrecedeItsInvoke() throws {
    let text = """
      1 invoke read null
      1 ok read 1
      0 invoke write 1
      0 info write 1
      """
    XCTAssertEqual(try verdict(text), .notLinearizable)
  }

  func testCasAgainstAValueNeverWritten() throws {
    XCTAssertEqual(try verdict("0 invoke cas [5,6]\n0 ok cas [5,6]"), .notLinearizable)
    XCTAssertEqual(
      try verdict("0 invoke cas [5,6]\n0 fail cas [5,6]\n1 invoke read null\n1 ok read null"), .linearizable, "a failed cas did not happen")
    XCTAssertEqual(
      try verdict("0 invoke cas [5,6]\n0 info cas [5,6]\n1 invoke read null\n1 ok read 6"), .notLinearizable,
      "an unknown cas takes effect only on its expected value")
    let chained = """
      0 invoke write 1
      0 ok write 1
      1 invoke cas [1,2]
      1 ok cas [1,2]
      2 invoke read null
      2 ok read 2
      """
    XCTAssertEqual(try verdict(chained), .linearizable)
  }

  func testCrashedProcessLeavesItsOperationUnknown() throws {
    // Process 3 crashed mid-write (info); its client came back as process 4.
    let text = """
      3 invoke write 3
      0 invoke write 1
      0 ok write 1
      3 info write 3
      4 invoke read null
      4 ok read 3
      1 invoke read null
      1 ok read 3
      """
    XCTAssertEqual(try verdict(text), .linearizable)
    XCTAssertEqual(
      try verdict(text + "\n2 invoke read null\n2 ok read 1"), .notLinearizable, "the unknown write took effect once, after the write of 1")
  }

  func testInvokeWithoutCompletionCountsAsUnknown() throws {
    let h = try history("0 invoke write 7\n1 invoke read null\n1 ok read 7")
    XCTAssertEqual(h.operations[0].outcome, .unknown)
    XCTAssertNil(h.operations[0].completion)
    XCTAssertEqual(try Checker.check(h, model: .register).verdict, .linearizable)
  }

  func testFailedWriteDidNotHappen() throws {
    XCTAssertEqual(try verdict("0 invoke write 5\n0 fail write 5\n1 invoke read null\n1 ok read 5"), .notLinearizable)
  }

  func testUnknownReadSaysNothing() throws {
    XCTAssertEqual(try verdict("0 invoke read null\n0 info read null\n1 invoke read null\n1 ok read null"), .linearizable)
  }

  func testNumbersCompareAsJSON() throws {
    XCTAssertEqual(try verdict("0 invoke write 1\n0 ok write 1\n1 invoke read null\n1 ok read 1.0"), .linearizable)
    XCTAssertEqual(try verdict("0 invoke write 1\n0 ok write 1\n1 invoke read null\n1 ok read \"1\""), .notLinearizable)
  }

  func testKVKeysAreIndependentAndAppendsConcatenate() throws {
    let text = """
      0 invoke append "a" k1
      0 ok append "a" k1
      1 invoke append "b" k2
      1 ok append "b" k2
      0 invoke append "c" k1
      0 ok append "c" k1
      1 invoke get null k1
      1 ok get "ac" k1
      2 invoke get null k2
      2 ok get "b" k2
      2 invoke put "z" k2
      2 ok put "z" k2
      3 invoke get null k3
      3 ok get "" k3
      """
    let report = try Checker.check(history(text), model: .kv)
    XCTAssertEqual(report.verdict, .linearizable)
    XCTAssertEqual(report.partitions, 3)
    let bad = text + "\n0 invoke get null k2\n0 ok get \"bz\" k2"
    let badReport = try Checker.check(history(bad), model: .kv)
    XCTAssertEqual(badReport.verdict, .notLinearizable)
    XCTAssertEqual(badReport.violation?.key, "k2")
  }

  func testModelIsInferred() throws {
    XCTAssertEqual(ModelKind.inferred(from: try history("0 invoke put \"x\" k\n0 ok put \"x\" k").operations), .kv)
    XCTAssertEqual(ModelKind.inferred(from: try history("0 invoke write 1\n0 ok write 1").operations), .casRegister)
  }

  func testDeadlineGivesUnknownNeverAGuess() throws {
    // Twenty unknown writes and a read of a value none wrote: deciding it
    // means trying every subset of the writes.
    var text = ""
    for p in 0..<20 { text += "\(p) invoke write \(p)\n" }
    for p in 0..<20 { text += "\(p) info write \(p)\n" }
    text += "99 invoke read null\n99 ok read 100"
    let h = try history(text)
    let report = try Checker.check(h, model: .casRegister, options: .init(deadline: .now))
    XCTAssertEqual(report.verdict, .unknown)
    XCTAssertNotNil(report.unknownReason)
  }
}

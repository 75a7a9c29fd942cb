import XCTest

@testable import History

/// set and set-full on small histories whose verdict is known by hand.
final class SetModelTests: XCTestCase {
  func check(_ text: String, _ model: ModelName, _ options: CheckOptions = CheckOptions()) throws -> Verdict {
    try ModelCheck.check(history: history(text), model: model, options: options)
  }

  func testSetAllAcknowledgedReadIsValid() throws {
    let v = try check("0 invoke add 1\n0 ok add 1\n1 invoke add 2\n1 info add 2\n0 invoke read null\n0 ok read [1,2]", .set)
    XCTAssertEqual(v.valid, .valid)
    XCTAssertEqual(v.fields["recoveredCount"], .int(1), "2's add had an unknown outcome, and the read shows it")
    XCTAssertEqual(v.fields["okCount"], .int(2))
  }

  func testSetLostAndUnexpected() throws {
    let v = try check("0 invoke add 1\n0 ok add 1\n0 invoke add 2\n0 ok add 2\n0 invoke read null\n0 ok read [2,9]", .set)
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.fields["lost"], .array([.int(1)]))
    XCTAssertEqual(v.fields["unexpected"], .array([.int(9)]))
  }

  func testSetNeverReadIsUnknown() throws {
    XCTAssertEqual(try check("0 invoke add 1\n0 ok add 1", .set).valid, .unknown)
  }

  func testSetUsesTheLastRead() throws {
    let text = "0 invoke add 1\n0 ok add 1\n0 invoke read null\n0 ok read []\n0 invoke read null\n0 ok read [1]"
    XCTAssertEqual(try check(text, .set).valid, .valid, "an early read that missed 1 is not the final read")
  }

  func testSetRejectsAnOperationItDoesNotKnow() throws {
    XCTAssertThrowsError(try check("0 invoke write 1\n0 ok write 1", .set)) { e in
      XCTAssertTrue("\(e)".contains("write is not an operation of set"), "\(e)")
    }
  }

  func testSetFullStableElements() throws {
    let text = """
      0 invoke add 1
      0 ok add 1
      1 invoke read null
      1 ok read [1]
      0 invoke add 2
      0 ok add 2
      1 invoke read null
      1 ok read [1,2]
      """
    let v = try check(text, .setFull)
    XCTAssertEqual(v.valid, .valid)
    XCTAssertEqual(v.fields["stableCount"], .int(2))
    XCTAssertEqual(v.fields["lostCount"], .int(0))
  }

  func testSetFullLostElement() throws {
    // 1 is acknowledged and seen, then a later read misses it: lost.
    let text = """
      0 invoke add 1
      0 ok add 1
      1 invoke read null
      1 ok read [1]
      1 invoke read null
      1 ok read []
      """
    let v = try check(text, .setFull)
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.fields["lost"], .array([.int(1)]))
  }

  func testSetFullStaleElementIsInvalidOnlyWhenLinearizable() throws {
    // 1 is acknowledged at 1 ms, a read begun at 2 ms misses it, a later one sees it: stale by 1 ms.
    let ms: UInt64 = 1_000_000
    let events = [
      HistoryEvent(process: 0, type: .invoke, f: "add", value: .int(1), time: 0),
      HistoryEvent(process: 0, type: .ok, f: "add", value: .int(1), time: 1 * ms),
      HistoryEvent(process: 1, type: .invoke, f: "read", time: 2 * ms),
      HistoryEvent(process: 1, type: .ok, f: "read", value: .array([]), time: 3 * ms),
      HistoryEvent(process: 1, type: .invoke, f: "read", time: 4 * ms),
      HistoryEvent(process: 1, type: .ok, f: "read", value: .array([.int(1)]), time: 5 * ms),
    ]
    let h = try History(events: events)
    let relaxed = try ModelCheck.check(history: h, model: .setFull)
    XCTAssertEqual(relaxed.valid, .valid)
    XCTAssertEqual(relaxed.fields["staleCount"], .int(1))
    XCTAssertEqual(relaxed.fields["worstStale"], .array([.object(["element": .int(1), "stableLatency": .int(1)])]))
    XCTAssertEqual(try ModelCheck.check(history: h, model: .setFull, options: CheckOptions(linearizable: true)).valid, .invalid)
  }

  func testSetFullConcurrentMissIsNotLost() throws {
    // The read that misses 1 is concurrent with its add: never read, not lost.
    let text = """
      0 invoke add 1
      1 invoke read null
      0 ok add 1
      1 ok read []
      """
    let v = try check(text, .setFull)
    XCTAssertEqual(v.fields["neverReadCount"], .int(1))
    XCTAssertEqual(v.valid, .unknown, "nothing is stable: nothing decided")
  }

  func testSetFullUnknownAddsNeverBlowUp() throws {
    // Adds of unknown outcome: one seen (stable), one never seen (never read, not lost).
    let text = """
      0 invoke add 1
      0 info add 1
      2 invoke add 2
      2 info add 2
      1 invoke read null
      1 ok read [1]
      """
    let v = try check(text, .setFull)
    XCTAssertEqual(v.valid, .valid)
    XCTAssertEqual(v.fields["stableCount"], .int(1))
    XCTAssertEqual(v.fields["neverReadCount"], .int(1))
  }

  func testSetFullDuplicateInOneReadIsInvalid() throws {
    let v = try check("0 invoke add 1\n0 ok add 1\n1 invoke read null\n1 ok read [1,1]", .setFull)
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.fields["duplicatedCount"], .int(1))
  }

  func testSameHistorySameReport() throws {
    let text = "0 invoke add 3\n0 ok add 3\n0 invoke add 1\n0 ok add 1\n1 invoke read null\n1 ok read []"
    XCTAssertEqual(try check(text, .setFull).json, try check(text, .setFull).json)
    XCTAssertTrue(try check(text, .setFull).json.hasPrefix("{\"formatVersion\":1,\"valid\":false,\"model\":\"set-full\""))
  }

  func testElementIndexKeepsEveryKindOfElement() {
    var index = ElementIndex()
    // 5000 comes before the small numbers reach it: hashed first, then moved into the array.
    let values: [HistoryValue] =
      [.int(5000), .int(-3), .int(Int64.max), .string("x"), .double(2.5)] + (0..<3000).map { .int(Int64($0)) } + [.int(4999)]
    for (n, v) in values.enumerated() { index.insert(v, n) }
    for (n, v) in values.enumerated() { XCTAssertEqual(index.id(of: v), n, v.json) }
    XCTAssertEqual(index.id(of: .double(7)), values.firstIndex(of: .int(7)), "7.0 is the element 7")
    XCTAssertNil(index.id(of: .int(3000)))
    XCTAssertNil(index.id(of: .int(-1)))
    XCTAssertNil(index.id(of: .string("y")))
  }
}

import XCTest

@testable import History

/// counter, bank and long-fork on small histories whose verdict is known by hand.
final class CounterBankTests: XCTestCase {
  func check(_ text: String, _ model: ModelName, _ options: CheckOptions = CheckOptions()) throws -> Verdict {
    try ModelCheck.check(history: history(text), model: model, options: options)
  }

  func testCounterReadWithinBounds() throws {
    // The add of 5 is concurrent with the read: 0 and 5 are both allowed.
    for read in [0, 5] {
      let text = "0 invoke add 5\n1 invoke read null\n1 ok read \(read)\n0 ok add 5"
      XCTAssertEqual(try check(text, .counter).valid, .valid, "read \(read)")
    }
    XCTAssertEqual(try check("0 invoke add 5\n1 invoke read null\n1 ok read 6\n0 ok add 5", .counter).valid, .invalid)
  }

  func testCounterReadBelowAcknowledgedAdds() throws {
    let v = try check("0 invoke add 2\n0 ok add 2\n1 invoke read null\n1 ok read 1", .counter)
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.fields["errorCount"], .int(1))
  }

  func testCounterFailedAddsCountForNothing() throws {
    XCTAssertEqual(try check("0 invoke add 2\n0 fail add 2\n1 invoke read null\n1 ok read 2", .counter).valid, .invalid)
    XCTAssertEqual(try check("0 invoke add 2\n0 info add 2\n1 invoke read null\n1 ok read 2", .counter).valid, .valid)
  }

  func testBankTotalKept() throws {
    let text = """
      0 invoke read null
      0 ok read {"a":10,"b":0}
      1 invoke transfer {"from":"a","to":"b","amount":4}
      1 ok transfer {"from":"a","to":"b","amount":4}
      0 invoke read null
      0 ok read {"a":6,"b":4}
      """
    XCTAssertEqual(try check(text, .bank).valid, .valid)
    XCTAssertEqual(try check(text, .bank, CheckOptions(total: 11)).valid, .invalid, "--total overrides the first read")
  }

  func testBankWrongTotalAndNegative() throws {
    let wrong = try check("0 invoke read null\n0 ok read {\"a\":10,\"b\":0}\n0 invoke read null\n0 ok read {\"a\":7,\"b\":2}", .bank)
    XCTAssertEqual(wrong.valid, .invalid)
    guard case .object(let errors)? = wrong.fields["errors"] else { return XCTFail("no errors") }
    XCTAssertNotNil(errors["wrong-total"])
    let negative = "0 invoke read null\n0 ok read {\"a\":10,\"b\":0}\n0 invoke read null\n0 ok read {\"a\":11,\"b\":-1}"
    XCTAssertEqual(try check(negative, .bank).valid, .invalid)
    XCTAssertEqual(try check(negative, .bank, CheckOptions(negativeBalances: true)).valid, .valid)
  }

  func testBankUnexpectedAccount() throws {
    let v = try check("0 invoke read null\n0 ok read {\"a\":1}\n0 invoke read null\n0 ok read {\"a\":0,\"z\":1}", .bank)
    XCTAssertEqual(v.valid, .invalid)
    guard case .object(let errors)? = v.fields["errors"] else { return XCTFail("no errors") }
    XCTAssertNotNil(errors["unexpected-key"])
  }

  func testLongForkFound() throws {
    let text = """
      0 invoke txn [["w",0,1]]
      0 ok txn [["w",0,1]]
      1 invoke txn [["w",1,1]]
      1 ok txn [["w",1,1]]
      2 invoke read [["r",0,null],["r",1,null]]
      2 ok read [["r",0,1],["r",1,null]]
      3 invoke read [["r",1,null],["r",0,null]]
      3 ok read [["r",1,1],["r",0,null]]
      """
    let v = try check(text, .longFork, CheckOptions(groupSize: 2))
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.fields["forkCount"], .int(1))
  }

  func testLongForkOrderedReadsAreValid() throws {
    let text = """
      2 invoke read [["r",0,null],["r",1,null]]
      2 ok read [["r",0,1],["r",1,null]]
      3 invoke read [["r",1,null],["r",0,null]]
      3 ok read [["r",1,1],["r",0,1]]
      """
    XCTAssertEqual(try check(text, .longFork).valid, .valid)
  }

  func testLongForkKeyWrittenTwiceIsUnknown() throws {
    let text = "0 invoke txn [[\"w\",0,1]]\n0 ok txn [[\"w\",0,1]]\n1 invoke txn [[\"w\",0,2]]\n1 ok txn [[\"w\",0,2]]"
    XCTAssertEqual(try check(text, .longFork).valid, .unknown)
  }

  func testLongForkWrongGroupSizeIsUnknown() throws {
    let text = "2 invoke read [[\"r\",0,null]]\n2 ok read [[\"r\",0,1]]"
    XCTAssertEqual(try check(text, .longFork, CheckOptions(groupSize: 3)).valid, .unknown)
  }
}

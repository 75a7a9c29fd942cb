import XCTest

@testable import History

/// mutex, multi-register and register initial values, on small histories.
final class LockModelTests: XCTestCase {
  func check(_ text: String, _ model: ModelName, _ options: CheckOptions = CheckOptions()) throws -> Verdict {
    try ModelCheck.check(history: history(text), model: model, options: options)
  }

  func testMutexAlternating() throws {
    let text = "0 invoke acquire\n0 ok acquire\n0 invoke release\n0 ok release\n1 invoke acquire\n1 ok acquire"
    XCTAssertEqual(try check(text, .mutex).valid, .valid)
  }

  func testMutexHeldTwice() throws {
    let v = try check("0 invoke acquire\n0 ok acquire\n1 invoke acquire\n1 ok acquire", .mutex)
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.linearizability?.violation?.witness, [0, 1])
  }

  func testMutexReleaseOfAFreeLock() throws {
    XCTAssertEqual(try check("0 invoke release\n0 ok release", .mutex).valid, .invalid)
    XCTAssertEqual(try check("0 invoke release\n0 fail release", .mutex).valid, .valid, "a failed release did nothing")
  }

  func testMutexUnknownReleaseMayHaveHappened() throws {
    let text = "0 invoke acquire\n0 ok acquire\n0 invoke release\n0 info release\n1 invoke acquire\n1 ok acquire"
    XCTAssertEqual(try check(text, .mutex).valid, .valid)
    let never = "0 invoke acquire\n0 ok acquire\n1 invoke acquire\n1 info acquire\n0 invoke release\n0 ok release"
    XCTAssertEqual(try check(never, .mutex).valid, .valid, "an acquire of unknown outcome on a held lock never happened")
  }

  func testMultiRegister() throws {
    let ok = """
      0 invoke txn [["write","x",1],["write","y",2]]
      0 ok txn [["write","x",1],["write","y",2]]
      1 invoke txn [["read","x",null],["read","y",null]]
      1 ok txn [["read","x",1],["read","y",2]]
      """
    XCTAssertEqual(try check(ok, .multiRegister).valid, .valid)
    let torn = ok.replacingOccurrences(of: "[\"read\",\"y\",2]", with: "[\"read\",\"y\",null]")
    XCTAssertEqual(try check(torn, .multiRegister).valid, .valid, "a null read reads anything")
    let wrong = ok.replacingOccurrences(of: "[\"read\",\"y\",2]", with: "[\"read\",\"y\",3]")
    XCTAssertEqual(try check(wrong, .multiRegister).valid, .invalid)
  }

  func testMultiRegisterInitialValue() throws {
    let text = "1 invoke txn [[\"r\",\"x\",null]]\n1 ok txn [[\"r\",\"x\",5]]"
    XCTAssertEqual(try check(text, .multiRegister).valid, .invalid)
    XCTAssertEqual(try check(text, .multiRegister, CheckOptions(initialValue: .object(["x": .int(5)]))).valid, .valid)
  }

  func testRegisterInitialValue() throws {
    let text = "0 invoke cas [0,1]\n0 ok cas [0,1]\n1 invoke read null\n1 ok read 1"
    XCTAssertEqual(try check(text, .casRegister).valid, .invalid, "a register starts as null")
    XCTAssertEqual(try check(text, .casRegister, CheckOptions(initialValue: .int(0))).valid, .valid, "Knossos's tests start at 0")
  }
}

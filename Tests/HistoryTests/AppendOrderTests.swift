import Foundation
import XCTest

@testable import History

/// kv histories of appends of distinct tokens, decided without the search.
final class AppendOrderTests: XCTestCase {
  static let real = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/histories/real/redis-kv-info.jsonl").standardizedFileURL.path

  func ops(_ text: String) throws -> [SearchOp<KVInput>] {
    try Checker.typed(history(text), KVModel())[0].ops
  }

  func testChainOfAppendsAndPrefixReads() throws {
    let text = """
      0 invoke append "a," k
      1 invoke get null k
      1 ok get "" k
      0 ok append "a," k
      2 invoke append "b," k
      2 info append "b," k
      1 invoke get null k
      1 ok get "a,b," k
      """
    let order = try XCTUnwrap(AppendOrder.linearization(ops(text)))
    XCTAssertEqual(order, [1, 0, 2, 3], "the empty get, a, b (unknown, seen), the full get")
    let h = try history(text)
    XCTAssertNil(replayProblem(h, try Checker.check(h, model: .kv)))
  }

  func testNotAPrefixFallsBackToTheSearch() throws {
    let text = """
      0 invoke append "a," k
      0 ok append "a," k
      0 invoke append "b," k
      0 ok append "b," k
      1 invoke get null k
      1 ok get "b,a," k
      """
    XCTAssertNil(AppendOrder.linearization(try ops(text)), "the longest get contradicts real time: the greedy placement fails")
    XCTAssertEqual(try verdict(text, .kv), .notLinearizable)
  }

  func testShapesItDoesNotTakeOn() throws {
    XCTAssertNil(AppendOrder.linearization(try ops("0 invoke put \"x\" k\n0 ok put \"x\" k")), "a put")
    XCTAssertNil(
      AppendOrder.linearization(try ops("0 invoke append \"a\" k\n0 ok append \"a\" k\n1 invoke append \"ab\" k\n1 ok append \"ab\" k")), "a prefix")
    XCTAssertNil(
      AppendOrder.linearization(try ops("0 invoke append \"a\" k\n0 ok append \"a\" k\n1 invoke append \"a\" k\n1 ok append \"a\" k")), "twice")
  }

  func testReadBeforeItsAppendIsAViolation() throws {
    let text = """
      1 invoke get null k
      1 ok get "a," k
      0 invoke append "a," k
      0 ok append "a," k
      """
    XCTAssertNil(AppendOrder.linearization(try ops(text)))
    XCTAssertEqual(try verdict(text, .kv), .notLinearizable)
  }

  /// The Redis history the search gave up on after 124 s: decided, and the order replays.
  func testRealRedisHistoryIsDecided() throws {
    let h = try History(contentsOf: Self.real)
    let report = try Checker.check(h, model: .kv)
    XCTAssertEqual(report.verdict, .linearizable)
    XCTAssertNil(replayProblem(h, report))
  }
}

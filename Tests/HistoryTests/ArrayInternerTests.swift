import Foundation
import XCTest

@testable import History

/// Arrays read from JSON Lines: each list of scalars made once per history,
/// and every value still read as it is written.
final class ArrayInternerTests: XCTestCase {
  func events(_ text: String) throws(HistoryError) -> [HistoryEvent] {
    try HistoryParser.parse(Data(text.utf8), file: "h.jsonl")
  }

  /// The list a `[["r", k, list]]` value read, and the address of its elements.
  func read(_ e: HistoryEvent) -> (list: [HistoryValue], address: UnsafeRawPointer?) {
    guard case .array(let mops) = e.value, case .array(let mop) = mops[0], case .array(let list) = mop[2] else { return ([], nil) }
    return (list, list.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) })
  }

  func testALineReadAgainSharesItsElements() throws {
    let line = { (k: Int, list: String) in #"{"process": 1, "type": "ok", "f": "txn", "value": [["r", \#(k), \#(list)]]}"# }
    let e = try events([line(1, "[1, 2, 3]"), line(2, "[1,2,3]"), line(3, "[1, 2, 4]"), line(4, "[1, 2, 3]")].joined(separator: "\n"))
    let reads = e.map(read)
    XCTAssertEqual(reads.map(\.list), [[1, 2, 3], [1, 2, 3], [1, 2, 4], [1, 2, 3]].map { $0.map(HistoryValue.int) })
    XCTAssertNotNil(reads[0].address)
    XCTAssertEqual(reads[1].address, reads[0].address)
    XCTAssertEqual(reads[3].address, reads[0].address)
    XCTAssertNotEqual(reads[2].address, reads[0].address)
    // The micro-ops themselves differ (their keys): equal values, each its own.
    XCTAssertNotEqual(e[0].value, e[1].value)
  }

  func testEachArrayKeepsItsSpelling() throws {
    let e = try events(
      [
        #"{"process": 1, "type": "ok", "f": "r", "value": [7]}"#,
        #"{"process": 1, "type": "ok", "f": "r", "value": [7.0]}"#,
        #"{"process": 1, "type": "ok", "f": "r", "value": ["\u00e9"]}"#,
        #"{"process": 1, "type": "ok", "f": "r", "value": ["e\u0301"]}"#,
        #"{"process": 1, "type": "ok", "f": "r", "value": [null, true, "x"]}"#,
        #"{"process": 1, "type": "ok", "f": "r", "value": [null, false, "x"]}"#,
      ].joined(separator: "\n"))
    guard case .array(let a) = e[1].value, case .double(7) = a.first else { return XCTFail("7.0 stays a double: \(e[1].value)") }
    guard case .array(let b) = e[2].value, case .array(let c) = e[3].value, case .string(let s) = b.first, case .string(let t) = c.first
    else { return XCTFail("strings") }
    XCTAssertEqual(s, t)  // equivalent as Swift strings,
    XCTAssertEqual(Array(s.utf8), [0xC3, 0xA9])  // yet each as it was written
    XCTAssertEqual(Array(t.utf8), [0x65, 0xCC, 0x81])
    XCTAssertEqual(e[4].value, .array([.null, .bool(true), .string("x")]))
    XCTAssertEqual(e[5].value, .array([.null, .bool(false), .string("x")]))
  }

  func testEDNVectorsReadAgainShareTheirElements() throws {
    let text = Array("[[:r 1 [1 2 3]] [:r 2 [1 2 3]] [:r 3 (1 2 4)] [:r 4 #{1 2 3}]]\n".utf8)
    let forms = try text.withUnsafeBufferPointer { b throws(EDNError) in try EDNReader.forms(b) }
    guard case .array(let mops) = forms.first?.value, mops.count == 4 else { return XCTFail("\(forms.map(\.value))") }
    let lists = mops.map { m -> [HistoryValue] in if case .array(let a) = m, case .array(let l) = a[2] { l } else { [] } }
    let addresses = lists.map { l in l.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) } }
    XCTAssertEqual(lists[0], [1, 2, 3].map(HistoryValue.int))
    XCTAssertEqual(lists[3], lists[0])
    XCTAssertNotNil(addresses[0])
    XCTAssertEqual(addresses[1], addresses[0])
    XCTAssertEqual(addresses[3], addresses[0])  // a set, written as the vector was, is the same array
    XCTAssertNotEqual(addresses[2], addresses[0])
  }

  func testAnArrayLeftOpenByAMistakeLeavesTheNextLineWhole() throws {
    var reader = EventLineReader()
    let bad = Array(#"{"process": 1, "type": "ok", "f": "txn", "value": [[1, [2, 3], [4, x]]}"#.utf8)
    XCTAssertThrowsError(try bad.withUnsafeBufferPointer { b throws(EventLineReader.SyntaxError) in try reader.fields(b) })
    let good = Array(#"{"process": 1, "type": "ok", "f": "txn", "value": [[1, [2, 3]], 5]}"#.utf8)
    let fields = try good.withUnsafeBufferPointer { b throws(EventLineReader.SyntaxError) in try reader.fields(b) }
    XCTAssertEqual(fields.value, .array([.array([.int(1), .array([.int(2), .int(3)])]), .int(5)]))
  }
}

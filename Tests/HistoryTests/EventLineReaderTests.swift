import Foundation
import XCTest

@testable import History

/// The JSON Lines reader that reads events straight from the bytes: what it
/// reads (against the general JSON reader's objects), and where it stops.
final class EventLineReaderTests: XCTestCase {
  func events(_ text: String) throws(HistoryError) -> [HistoryEvent] {
    try HistoryParser.parse(Data(text.utf8), file: "h.jsonl")
  }

  func errors(_ text: String) -> [String] {
    do {
      _ = try events(text)
      return []
    } catch {
      return error.description.split(separator: "\n").map(String.init)
    }
  }

  func testReadsValuesAsTheJSONReaderDoes() throws {
    let values = [
      #""esc \" \\ \/ \b \f \n \r \t \u00e9 \u20AC \ud83d\ude00 end""#,
      "\"ünïcødé 😀 raw\"",
      "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "-0", "0", "-17",
      "1.5", "-2.5e-3", "1E+2", "12345678901234567890123",
      #"[["append", 3, 7], ["r", "k", [1, -2, 3.5, null, true, {"x": [[]]}]]]"#,
      #"{"nested": {"deeper": [{"a": "b"}, []]}}"#, "null", "[]", "{}",
    ]
    for text in values {
      let line = #"{"process": 1, "type": "ok", "f": "txn", "value": "# + text + #", "time": 5}"#
      let e = try events(line)
      XCTAssertEqual(e.count, 1, text)
      XCTAssertEqual(e.first?.value, JSONReader.parse(text), text)
      XCTAssertEqual(e.first?.time, 5)
    }
    // Integers stay integers up to 64 bits, past them doubles.
    XCTAssertEqual(JSONReader.parse("-9223372036854775808"), .int(Int64.min))
    guard case .double = JSONReader.parse("9223372036854775808") else { return XCTFail("2^63 is not an Int64") }
    guard case .int(0) = JSONReader.parse("-0") else { return XCTFail("-0 is the integer 0") }
  }

  func testKeysInAnyOrderEscapedOrRepeatedAndUnknownKeysSkipped() throws {
    let text = [
      #"{"time": 9, "value": [1, {"k": "v"}], "extra": {"deep": [1, [2, "}"]]}, "f": "wr\u0069te", "type": "invoke", "process": 4}"#,
      #"  { "\u0070rocess" : 4 , "type":"ok","f":"write","value":null,"f":"ignored, the first one counts"}  "#,
      #"{"process": 5, "type": "invoke", "f": "a-long-operation-name", "key": "a-long-key-name-that-is-not-small"}"#,
      #"{"process": 5, "type": "ok", "f": "a-long-operation-name", "key": "a-long-key-name-that-is-not-small"}"#,
    ].joined(separator: "\n")
    let e = try events(text)
    XCTAssertEqual(e.map(\.process), [4, 4, 5, 5])
    XCTAssertEqual(e.map(\.f), ["write", "write", "a-long-operation-name", "a-long-operation-name"])
    XCTAssertEqual(e[0].value, .array([.int(1), .object(["k": .string("v")])]))
    XCTAssertEqual(e[0].time, 9)
    XCTAssertEqual(e[1].value, .null)
    XCTAssertEqual(e[3].key, "a-long-key-name-that-is-not-small")
    XCTAssertEqual(e.map(\.line), [1, 2, 3, 4])
  }

  func testMistakesNameLineAndColumn() {
    let text = [
      #"{"process": 0, "type": "invoke", "f": "write", "value": 1}"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": 1} trailing"#,
      #"{"process": 0, "type": "invoke", "f": "write", "value": [1, 2"#,
      #"{"process": 0, "type": "ok", "f": "wri"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": "bad \q escape"}"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": 01}"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": tru}"#,
      #"{"process": 0 "type": "ok"}"#,
      #"{process: 0}"#,
      #"[1, 2]"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": "\ud800 lone"}"#,
      #"{"process": 0, "type": "ok", "f": "write", "value": 1e999}"#,
      "{\"process\": 0, \"type\": \"ok\", \"f\": \"write\", \"value\": \"raw \u{01}\"}",
    ].joined(separator: "\n")
    XCTAssertEqual(
      errors(text),
      [
        #"h.jsonl:2:56: error: not a JSON object: more text after the object (one object a line), found "trailing""#,
        #"h.jsonl:3:62: error: not a JSON object: expected ',' or ']' in an array, found the end of the line"#,
        #"h.jsonl:4:35: error: not a JSON object: this string is never closed, found "\"wri""#,
        #"h.jsonl:5:58: error: not a JSON object: unknown escape '\q' in a string, found "\\q escape\"}""#,
        #"h.jsonl:6:54: error: not a JSON object: expected ',' or '}' after a value, found "1}""#,
        #"h.jsonl:7:53: error: not a JSON object: not a JSON value (true, false, null, a number, a string, [ or {), found "tru}""#,
        #"h.jsonl:8:15: error: not a JSON object: expected ',' or '}' after a value, found "\"type\": \"ok\"}""#,
        #"h.jsonl:9:2: error: not a JSON object: expected a key (a string in double quotes), found "process: 0}""#,
        #"h.jsonl:10:1: error: not a JSON object: expected '{': each line is one JSON object, found "[1, 2]""#,
        #"h.jsonl:11:54: error: not a JSON object: a high surrogate \ud800 must be followed by a low one (\udc00–\udfff), found "\\ud800 lone\"}""#,
        #"h.jsonl:12:53: error: not a JSON object: the number 1e999 is out of range, found "1e999}""#,
        #"h.jsonl:13:58: error: not a JSON object: a control character in a string must be escaped (\n, \t, \u0001), found "\u0001\"}""#,
      ])
  }

  func testInvalidUTF8IsAMistakeAtItsString() {
    var bytes = Array(#"{"process": 0, "type": "invoke", "f": "write", "value": "x"#.utf8)
    bytes += [0xC3, 0x28]
    bytes += Array("\"}".utf8)
    XCTAssertThrowsError(try HistoryParser.parse(Data(bytes), file: "h.jsonl")) { error in
      XCTAssertEqual((error as? HistoryError)?.problems.first?.column, 57, "the string's opening quote")
      XCTAssertTrue("\(error)".contains("invalid UTF-8 in a string"), "\(error)")
    }
  }
}

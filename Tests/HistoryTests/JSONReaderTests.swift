import Foundation
import XCTest

@testable import History

/// The history's own JSON reader against Foundation's JSONDecoder (through
/// HistoryValue's Codable conformance), which it replaced for speed.
final class JSONReaderTests: XCTestCase {
  func decoded(_ text: String) -> HistoryValue? {
    try? JSONDecoder().decode(HistoryValue.self, from: Data(text.utf8))
  }

  func testReadsWhatJSONDecoderReads() {
    let texts = [
      #"{"process": 3, "type": "invoke", "f": "cas", "value": [1, 2], "time": 12345678901234}"#,
      #"{"process":0,"type":"ok","f":"read","value":null}"#,
      #"  {"a": true, "b": false, "c": -0, "d": 1.5, "e": 2e3, "f": -1.25E-2, "g": {}, "h": []}  "#,
      #""plain""#, "7", "-12", "null", "[[], [[1]], {\"x\": [true]}]",
      #""esc \" \\ \/ \b \f \n \r \t \u00e9 \u20AC \ud83d\ude00 end""#,
      "\"ünïcødé 😀 raw\"", "9223372036854775807", "9223372036854775808", "0.1",
      #"{"dup": 1, "dup": 2}"#,
    ]
    for text in texts {
      let mine = JSONReader.parse(text)
      XCTAssertNotNil(mine, text)
      XCTAssertEqual(mine, decoded(text), text)
    }
  }

  func testRefusesWhatIsNotOneJSONValue() {
    let bad = [
      "", "   ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\": 1,}", "{a: 1}", "01", "1.", ".5", "1e", "-",
      "+1", "tru", "nul", "\"open", "\"bad \\x escape\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00 lone\"",
      "\"raw \u{01} control\"", "1 2", "{} x", "NaN", "1e999",
    ]
    for text in bad { XCTAssertNil(JSONReader.parse(text), text) }
    XCTAssertNil(JSONReader.parse(String(repeating: "[", count: 600) + String(repeating: "]", count: 600)), "too deep")
    XCTAssertNotNil(JSONReader.parse(String(repeating: "[", count: 100) + String(repeating: "]", count: 100)))
    // Invalid UTF-8 inside a string.
    let invalid: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
    XCTAssertNil(invalid.withUnsafeBufferPointer { JSONReader.parse($0) })
  }

  func testRandomValuesRoundTrip() {
    var random = SystemRandomNumberGenerator()
    func make(_ depth: Int) -> HistoryValue {
      switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
      case 0: return .null
      case 1: return .bool(Bool.random(using: &random))
      case 2: return .int(Int64.random(in: .min ... .max, using: &random))
      case 3: return .double(Double.random(in: -1e9...1e9, using: &random))
      case 4: return .string(String((0..<Int.random(in: 0..<8, using: &random)).map { _ in "a\"\\\n\u{7}é😀 ".randomElement(using: &random)! }))
      case 5: return .array((0..<Int.random(in: 0..<4, using: &random)).map { _ in make(depth + 1) })
      default:
        return .object(Dictionary((0..<Int.random(in: 0..<4, using: &random)).map { ("k\($0)", make(depth + 1)) }, uniquingKeysWith: { a, _ in a }))
      }
    }
    for _ in 0..<500 {
      let v = make(0)
      let text = String(decoding: try! JSONEncoder().encode(v), as: UTF8.self)
      XCTAssertEqual(JSONReader.parse(text), v, text)
      XCTAssertEqual(JSONReader.parse(v.json), v, v.json)
    }
  }
}

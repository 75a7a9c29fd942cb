import Foundation
import History
import TestSupport
import XCTest

/// `cthulhu check --model set|set-full|counter|bank|…` through the built
/// binary: exit codes, the verdict line, `--json`, the model options.
final class ModelCLITests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws { dir = try Harness.tempDir("models") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func write(_ name: String, _ lines: [String]) throws -> String {
    let path = dir + "/" + name
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  static let set = [
    #"{"process": 0, "type": "invoke", "f": "add", "value": 1}"#,
    #"{"process": 0, "type": "ok", "f": "add", "value": 1}"#,
    #"{"process": 1, "type": "invoke", "f": "add", "value": 2}"#,
    #"{"process": 1, "type": "ok", "f": "add", "value": 2}"#,
    #"{"process": 2, "type": "invoke", "f": "add", "value": 3}"#,
    #"{"process": 2, "type": "info", "f": "add", "value": 3}"#,
    #"{"process": 0, "type": "invoke", "f": "read", "value": null}"#,
    #"{"process": 0, "type": "ok", "f": "read", "value": [1, 3]}"#,
  ]

  func testSetLostElementExitsTwoWithWords() throws {
    let h = try write("set.jsonl", Self.set)
    let r = try Harness.cthulhu(["check", "--model", "set", h])
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertTrue(
      r.stdout.hasPrefix("\(h): invalid (set, 3 attempted, 2 acknowledged, 2 ok, 1 lost, 0 unexpected, 1 recovered;"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Lost (acknowledged, not read): 2\n"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Recovered (add not acknowledged, read): 3\n"), r.stdout)
  }

  func testJSONForEveryModel() throws {
    let h = try write("set.jsonl", Self.set)
    let r = try Harness.cthulhu(["check", "--model", "set-full", "--json", h])
    XCTAssertEqual(r.status, 2, r.stderr)
    let v = try JSONDecoder().decode(Verdict.self, from: Data(r.stdout.utf8))
    XCTAssertEqual(v.valid, .invalid)
    XCTAssertEqual(v.model, .setFull)
    XCTAssertEqual(v.fields["lost"], .array([.int(2)]))
    XCTAssertTrue(r.stdout.hasPrefix(#"{"formatVersion":1,"valid":false,"model":"set-full","#), r.stdout)
    let register = try write(
      "r.jsonl", [#"{"process": 0, "type": "invoke", "f": "read"}"#, #"{"process": 0, "type": "ok", "f": "read", "value": 0}"#])
    let bad = try Harness.cthulhu(["check", "--model", "register", "--json", register])
    XCTAssertEqual(bad.status, 2, bad.stderr)
    XCTAssertTrue(bad.stdout.hasPrefix(#"{"formatVersion":1,"valid":false,"model":"register","#), bad.stdout)
    let good = try Harness.cthulhu(["check", "--model", "register", "--initial-value", "0", "--json", register])
    XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
  }

  func testUnknownExitsOne() throws {
    let h = try write("adds.jsonl", Array(Self.set.prefix(4)))
    let r = try Harness.cthulhu(["check", "--model", "set", h])
    XCTAssertEqual(r.status, 1, r.stderr)
    XCTAssertTrue(r.stdout.contains(": unknown (set, the set was never read"), r.stdout)
  }

  func testBankOptionsAsElleCliSpellsThem() throws {
    let h = try write(
      "bank.jsonl",
      [
        #"{"process": 0, "type": "invoke", "f": "read"}"#, #"{"process": 0, "type": "ok", "f": "read", "value": {"a": 11, "b": -1}}"#,
      ])
    XCTAssertEqual(try Harness.cthulhu(["check", "--model", "bank", h]).status, 2)
    XCTAssertEqual(try Harness.cthulhu(["check", "--model", "bank", "--allow-negative-balances", h]).status, 0)
    XCTAssertEqual(try Harness.cthulhu(["check", "--model", "bank", "--negative-balances", "--total", "9", h]).status, 2)
    XCTAssertTrue(
      try Harness.cthulhu(["check", "--model", "register", "--initial-value", "{oops", h]).stderr.contains("--initial-value takes a JSON value"))
  }
}

import Foundation
import TestSupport
import XCTest

@testable import History

/// Every set, set-full, counter, bank, long-fork, mutex and cas-register
/// history that elle-cli's and Elle's repositories publish
/// (`../shared/histories/elle`, read where it is) gets the verdict their own
/// tests assert, with the options they were run with.
final class ElleExpectedTests: XCTestCase {
  static let folder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/histories/elle").standardizedFileURL.path

  /// The models this branch judges; the transaction models are judged elsewhere.
  static let models: Set<ModelName> = [.set, .setFull, .counter, .bank, .longFork, .mutex, .casRegister]

  struct Row {
    var file: String
    var model: ModelName
    var valid: Verdict.Validity
    var options: CheckOptions
  }

  static func rows() throws -> [Row] {
    let tsv = folder + "/expected.tsv"
    try Harness.require(FileManager.default.fileExists(atPath: tsv), "the elle histories are not at \(folder)")
    let text = try String(contentsOfFile: tsv, encoding: .utf8)
    return try text.split(separator: "\n").dropFirst().compactMap { line -> Row? in
      let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard let model = ModelName(rawValue: cols[1]), models.contains(model), cols[2] != "unknown-skip" else { return nil }
      return Row(file: cols[0], model: model, valid: cols[2] == "valid" ? .valid : .invalid, options: try options(cols[5]))
    }
  }

  /// elle-cli's options as the table spells them (`--group-size 3`).
  static func options(_ text: String) throws -> CheckOptions {
    var o = CheckOptions()
    guard text != "-" else { return o }
    let words = text.split(separator: " ").map(String.init)
    var i = 0
    while i < words.count {
      switch words[i] {
      case "--group-size":
        o.groupSize = Int(words[i + 1])
        i += 2
      case "--allow-negative-balances", "--negative-balances":
        o.negativeBalances = true
        i += 1
      case "--total-amount", "--total":
        o.total = Int64(words[i + 1])
        i += 2
      default:
        // A published row this test cannot read is a failure, never a skip.
        XCTFail("an option this test does not know: \(words[i])")
        i += 1
      }
    }
    return o
  }

  func testEveryListedVerdict() throws {
    let rows = try Self.rows()
    var judged = 0
    XCTAssertFalse(rows.isEmpty)
    var wrong: [String] = []
    for row in rows {
      let h = try History(contentsOf: Self.folder + "/" + row.file)
      let v = try ModelCheck.check(history: h, model: row.model, options: row.options)
      judged += 1
      if v.valid != row.valid { wrong.append("\(row.file) (\(row.model.rawValue)): \(v.valid), expected \(row.valid)") }
    }
    XCTAssertEqual(judged, 21, "every set, set-full, counter, bank, long-fork, mutex and cas-register row, EDN and JSON")
    XCTAssertEqual(wrong, [])
  }

  func testSetFullReportNamesTheLostElements() throws {
    let h = try History(contentsOf: Self.folder + "/jepsen/set_full.json")
    let v = try ModelCheck.check(history: h, model: .setFull)
    XCTAssertEqual(v.valid, .invalid)
    // The adds are of [0, k] pairs, the read holds bare integers: every acknowledged add is lost.
    XCTAssertEqual(v.fields["lostCount"], .int(293))
    XCTAssertEqual(v.fields["stableCount"], .int(0))
    guard case .array(let lost)? = v.fields["lost"] else { return XCTFail("no lost list") }
    XCTAssertEqual(lost.first, .array([.int(0), .int(0)]))
    XCTAssertTrue(v.lines.allSatisfy { $0.count <= Verdict.lineLimit })
  }

  func testBankNegativeBalanceIsNamed() throws {
    let h = try History(contentsOf: Self.folder + "/jepsen/bank-negative-balances.json")
    XCTAssertEqual(try ModelCheck.check(history: h, model: .bank).valid, .invalid)
    let allowed = try ModelCheck.check(history: h, model: .bank, options: CheckOptions(negativeBalances: true))
    XCTAssertEqual(allowed.valid, .valid, "the total is kept; only the negative balance was wrong")
  }
}

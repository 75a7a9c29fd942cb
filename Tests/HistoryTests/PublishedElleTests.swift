import Foundation
import XCTest

@testable import History

/// Every list-append and rw-register history in `../shared/histories/elle`
/// (read where it is) judged as `expected.tsv` says its source asserts.
final class PublishedElleTests: XCTestCase {
  static let folder = EDNReaderTests.elle

  struct Row {
    var file, model, expected: String
    var anomalies, notModels: [String]
    var options: TransactionCheckOptions
  }

  static func rows() throws -> [Row] {
    let text = try String(contentsOfFile: folder + "/expected.tsv", encoding: .utf8)
    return text.split(separator: "\n").dropFirst().compactMap { line -> Row? in
      let c = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard TransactionChecks.models.contains(c[1]), c[2] != "unknown-skip" else { return nil }
      var o = TransactionCheckOptions()
      let words = c[5].split(separator: " ").map(String.init)
      if let i = words.firstIndex(of: "--consistency-models") { o.consistencyModels = words[i + 1].split(separator: ",").map(String.init) }
      let list = { (s: String) in s == "-" ? [] : s.split(separator: ",").map(String.init) }
      return Row(file: c[0], model: c[1], expected: c[2], anomalies: list(c[3]), notModels: list(c[4]), options: o)
    }
  }

  func judge(_ row: Row) throws -> [String] {
    let report = try TransactionChecks.check(History(contentsOf: Self.folder + "/" + row.file), model: row.model, options: row.options)
    var wrong: [String] = []
    let verdict = report.valid == .valid ? "valid" : report.valid == .invalid ? "invalid" : "unknown"
    if verdict != row.expected { wrong.append("\(row.file): \(verdict), expected \(row.expected): \(report.anomalyTypes)") }
    for m in row.notModels where !report.not.contains(m) { wrong.append("\(row.file): not \(report.not), expected \(m) among them") }
    return wrong
  }

  func testEveryPublishedTransactionVerdict() throws {
    let rows = try Self.rows().filter { $0.file != "elle-repo/huge-scc.edn" }
    XCTAssertEqual(rows.count, 6)
    var wrong: [String] = []
    for row in rows {
      wrong += try judge(row)
      // Anomaly types the source asserts (except those of Elle's search time limit).
      if !row.anomalies.isEmpty {
        let r = try TransactionChecks.check(History(contentsOf: Self.folder + "/" + row.file), model: row.model, options: row.options)
        if r.anomalyTypes != row.anomalies { wrong.append("\(row.file): \(r.anomalyTypes), expected \(row.anomalies)") }
      }
    }
    XCTAssertEqual(wrong, [])
  }

  /// Elle's `huge-scc-test` (20,602 operations): invalid, and not strong
  /// snapshot isolation. The other types it asserts come from Elle's search
  /// running out of time, which depends on the machine.
  func testHugeSCC() throws {
    let row = try XCTUnwrap(Self.rows().first { $0.file == "elle-repo/huge-scc.edn" })
    XCTAssertEqual(try judge(row), [])
  }
}

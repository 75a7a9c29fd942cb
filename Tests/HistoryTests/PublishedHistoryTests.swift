import Foundation
import TestSupport
import XCTest

@testable import History

/// Every published history (`../shared/histories` beside the package, read
/// where it is) gets the verdict `expected.tsv` gives it.
final class PublishedHistoryTests: XCTestCase {
  static let folder = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/histories").standardizedFileURL.path

  struct Expected {
    var file: String
    var model: ModelKind
    var linearizable: Bool
  }

  static func expected() throws -> [Expected] {
    let tsv = folder + "/expected.tsv"
    try Harness.require(FileManager.default.fileExists(atPath: tsv), "the published histories are not at \(folder)")
    let text = try String(contentsOfFile: tsv, encoding: .utf8)
    return text.split(separator: "\n").dropFirst().map { row in
      let cols = row.split(separator: "\t").map(String.init)
      return Expected(file: cols[0], model: ModelKind(rawValue: cols[1])!, linearizable: cols[2] == "linearizable")
    }
  }

  func testEveryPublishedVerdict() throws {
    let all = try Self.expected()
    XCTAssertEqual(all.count, 109, "expected.tsv lists 109 histories")
    var wrong: [String] = []
    for e in all {
      let h = try History(contentsOf: Self.folder + "/" + e.file)
      let report = try Checker.check(h, model: e.model)
      let want: CheckReport.Verdict = e.linearizable ? .linearizable : .notLinearizable
      if report.verdict != want { wrong.append("\(e.file): \(report.verdict.rawValue), expected \(want.rawValue)") }
      if report.verdict == .linearizable, let problem = replayProblem(h, report) {
        wrong.append("\(e.file): the linearization found is wrong: \(problem)")
      }
      if let v = report.violation {
        XCTAssertFalse(v.witness.isEmpty, e.file)
        XCTAssertTrue(Set(v.witness).isSubset(of: Set(v.part)), e.file)
        XCTAssertTrue(v.witness.contains(v.blocked), "\(e.file): the blocked operation is one of the witness's")
      }
    }
    XCTAssertEqual(wrong, [], "\(all.count - wrong.count)/\(all.count) right")
  }

  /// A witness is evidence on its own, judged here by brute force: no
  /// order of its operations that real time allows is legal, even when any
  /// value another operation (invoked before the cut) writes may appear in
  /// the register at any moment after that operation's invoke.
  func testWitnessesStandOnTheirOwn() throws {
    for e in try Self.expected() where !e.linearizable && e.model == .casRegister {
      let h = try History(contentsOf: Self.folder + "/" + e.file)
      // Time must not decide what is tested: the narrowing may take as long as it needs.
      let v = try XCTUnwrap(Checker.check(h, model: e.model, options: .init(narrowing: .seconds(600))).violation, e.file)
      XCTAssertTrue(v.minimal, e.file)
      XCTAssertLessThanOrEqual(v.witness.count, 20, "\(e.file): a witness of \(v.witness.count) operations is not small")
      let witness = Set(v.witness)
      var ghosts: [(value: HistoryValue, from: Int)] = []
      for op in h.operations where !witness.contains(op.id) && op.invoke < v.cut && op.outcome != .fail {
        if op.f == "write" { ghosts.append((op.argument, op.invoke)) }
        if op.f == "cas", case .array(let p) = op.argument { ghosts.append((p[1], op.invoke)) }
      }
      let ops = v.witness.map { h.operations[$0] }.map { op -> ClientOperation in
        var op = op
        if (op.completion ?? Int.max) >= v.cut { op.outcome = .unknown }
        return op
      }
      XCTAssertFalse(Self.orderExists(ops, ghosts: ghosts), "\(e.file): the witness \(v.witness) can be linearized")
    }
  }

  /// Whether some order of `ops` is legal for a cas-register when, before
  /// each operation, the register may take any ghost value invoked before
  /// the operation completes (unknown operations may also be left out).
  static func orderExists(_ ops: [ClientOperation], ghosts: [(value: HistoryValue, from: Int)]) -> Bool {
    struct Seen: Hashable {
      var placed: Set<Int>
      var state: HistoryValue
    }
    var seen = Set<Seen>()
    func search(_ placed: Set<Int>, _ state: HistoryValue) -> Bool {
      if ops.allSatisfy({ $0.outcome != .ok || placed.contains($0.id) }) { return true }
      guard seen.insert(Seen(placed: placed, state: state)).inserted else { return false }
      for op in ops where !placed.contains(op.id) {
        guard ops.allSatisfy({ $0.outcome != .ok || placed.contains($0.id) || $0.completion! > op.invoke }) else { continue }
        let end = op.outcome == .ok ? op.completion! : Int.max
        for before in [state] + ghosts.filter({ $0.from < end }).map(\.value) {
          var after = before
          switch op.f {
          case "read": if op.result != before { continue }
          case "write": after = op.argument
          default:
            guard case .array(let p) = op.argument else { continue }
            if before == p[0] { after = p[1] } else if op.outcome == .ok { continue }
          }
          if search(placed.union([op.id]), after) { return true }
        }
      }
      return false
    }
    return search([], .null)
  }
}

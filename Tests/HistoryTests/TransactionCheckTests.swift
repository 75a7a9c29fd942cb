import Foundation
import XCTest

@testable import History

/// list-append and rw-register, judged as Elle judges them.
final class TransactionCheckTests: XCTestCase {
  /// Transactions as `process outcome [micro-ops]` lines, in EDN. A line
  /// `|` starts a group whose transactions are all invoked before any
  /// completes (so no real-time order among them); otherwise each completes
  /// before the next is invoked.
  func history(_ text: String) throws -> History {
    var events: [String] = []
    var group: [(String, String, String)] = []
    func flush() {
      for (p, _, v) in group {
        let invoked = v.replacingOccurrences(of: #"\[:r (\S+) \[[^\]]*\]\]"#, with: "[:r $1 nil]", options: .regularExpression)
          .replacingOccurrences(of: #"\[:r (\S+) [^\[\]\s]+\]"#, with: "[:r $1 nil]", options: .regularExpression)
        events.append("{:process \(p) :type :invoke :f :txn :value \(invoked)}")
      }
      for (p, t, v) in group { events.append("{:process \(p) :type :\(t) :f :txn :value \(v)}") }
      group = []
    }
    var concurrent = false
    for row in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !row.isEmpty {
      if row == "|" {
        flush()
        concurrent = true
        continue
      }
      if row == "-" {
        flush()
        concurrent = false
        continue
      }
      let parts = row.split(separator: " ", maxSplits: 2).map(String.init)
      group.append((parts[0], parts[1], parts[2]))
      if !concurrent { flush() }
    }
    flush()
    let data = Data(events.joined(separator: "\n").utf8)
    return try History(events: HistoryParser.parse(data, file: "t.edn"), file: "t.edn")
  }

  func check(_ text: String, _ model: String = "list-append", models: [String]? = nil, wfr: Bool = false) throws -> TransactionReport {
    var o = TransactionCheckOptions()
    if let models { o.consistencyModels = models }
    o.wfrKeys = wfr
    return try TransactionChecks.check(history(text), model: model, options: o)
  }

  func testReadsAreFilledOnlyInCompletions() throws {
    let h = try history("0 ok [[:append :x 1] [:r :x [1]]]")
    XCTAssertEqual(h.events[0].value.json, #"[["append","x",1],["r","x",null]]"#)
  }

  func testASerialHistoryIsValid() throws {
    let r = try check("0 ok [[:append :x 1]]\n1 ok [[:r :x [1]] [:append :x 2]]\n0 ok [[:r :x [1 2]]]")
    XCTAssertEqual(r.valid, .valid)
    XCTAssertEqual(r.anomalyTypes, [])
    XCTAssertEqual(r.verdictLine, "valid: list-append, 3 transactions")
  }

  func testG0() throws {
    let r = try check("|\n0 ok [[:append :x 1] [:append :y 1]]\n1 ok [[:append :x 2] [:append :y 2]]\n-\n2 ok [[:r :x [1 2]] [:r :y [2 1]]]")
    XCTAssertEqual(r.valid, .invalid)
    XCTAssertEqual(r.anomalyTypes, ["G0"])
    XCTAssertEqual(r.not, ["read-uncommitted"])
    let text = r.text
    XCTAssertTrue(text.contains("appended 2 after T1 appended 1 to \"x\"") || text.contains("appended 1 after T1 appended 2 to \"y\""), text)
    XCTAssertTrue(text.contains("a contradiction!"), text)
  }

  func testG1c() throws {
    let r = try check("|\n0 ok [[:append :x 1] [:r :y [1]]]\n1 ok [[:append :y 1] [:r :x [1]]]")
    XCTAssertEqual(r.anomalyTypes, ["G1c"])
    XCTAssertEqual(r.not, ["read-committed"])
    XCTAssertTrue(r.text.contains("observed T1's append of 1 to key"), r.text)
  }

  func testGSingleItem() throws {
    let r = try check("|\n0 ok [[:append :x 1] [:append :y 1]]\n1 ok [[:r :x [1]] [:r :y []]]")
    XCTAssertEqual(r.anomalyTypes, ["G-single-item"])
    XCTAssertEqual(r.not, ["consistent-view", "repeatable-read"])
    XCTAssertTrue(r.text.contains("observed the initial (nil) state of \"y\", which T2 created by appending 1"), r.text)
  }

  func testG2ItemIsWriteSkew() throws {
    let r = try check("|\n0 ok [[:r :x []] [:append :y 1]]\n1 ok [[:r :y []] [:append :x 1]]", models: ["serializable"])
    XCTAssertEqual(r.anomalyTypes, ["G2-item"])
    XCTAssertEqual(r.not, ["repeatable-read"])
    XCTAssertEqual(try check("|\n0 ok [[:r :x []] [:append :y 1]]\n1 ok [[:r :y []] [:append :x 1]]", models: ["snapshot-isolation"]).valid, .valid)
  }

  func testGNonadjacentItem() throws {
    let r = try check(
      "|\n0 ok [[:r :x []] [:r :w [1]]]\n1 ok [[:append :x 1] [:append :y 1]]\n2 ok [[:r :y [1]] [:r :z []]]\n3 ok [[:append :z 1] [:append :w 1]]",
      models: ["snapshot-isolation"])
    XCTAssertEqual(r.anomalyTypes, ["G-nonadjacent-item"])
    XCTAssertEqual(r.not, ["repeatable-read", "snapshot-isolation"])
  }

  func testRealtimeAndProcessVariants() throws {
    let r = try check("0 ok [[:append :x 1]]\n1 ok [[:r :x []]]")
    XCTAssertEqual(r.anomalyTypes, ["G-single-item-realtime"])
    XCTAssertEqual(r.not, ["strong-snapshot-isolation"])
    XCTAssertTrue(r.text.contains("T2 completed at line 2, before the invocation of T1: a contradiction!"), r.text)
    XCTAssertEqual(try check("0 ok [[:append :x 1]]\n1 ok [[:r :x []]]", models: ["serializable"]).valid, .valid)
    let p = try check("0 ok [[:append :x 1]]\n0 ok [[:r :x []]]", models: ["strong-session-serializable"])
    XCTAssertEqual(p.anomalyTypes, ["G-single-item-process"])
  }

  func testNonCycleAnomalies() throws {
    let cases: [(String, [String])] = [
      ("0 fail [[:append :x 1]]\n1 ok [[:r :x [1]]]", ["G1a"]),
      ("0 ok [[:append :x 1] [:append :x 2]]\n1 ok [[:r :x [1]]]", ["G1b"]),
      ("0 ok [[:append :x 1] [:r :x []]]", ["internal"]),
      ("0 ok [[:r :x [1]] [:append :x 1]]", ["future-read"]),
      ("0 ok [[:append :x 1]]\n1 ok [[:r :x [1 1]]]", ["duplicate-elements"]),
      ("|\n0 ok [[:append :x 1]]\n1 ok [[:append :x 2]]\n-\n2 ok [[:r :x [1 2]]]\n3 ok [[:r :x [2 1]]]", ["incompatible-order"]),
      ("0 fail [[:append :x 1]]\n1 ok [[:append :x 2]]\n2 ok [[:r :x [1 2]]]", ["G1a", "dirty-update"]),
    ]
    for (text, want) in cases {
      let r = try check(text, models: ["serializable"])
      XCTAssertEqual(r.valid, .invalid, text)
      XCTAssertEqual(Set(want).subtracting(r.anomalyTypes), [], "\(text): \(r.anomalyTypes)")
    }
    let lost = try check(
      "0 ok [[:append :x 0]]\n|\n1 ok [[:r :x [0]] [:append :x 1]]\n2 ok [[:r :x [0]] [:append :x 2]]\n-\n0 ok [[:r :x [0 1 2]]]",
      models: ["serializable"])
    XCTAssertTrue(lost.anomalyTypes.contains("lost-update"), "\(lost.anomalyTypes)")
    XCTAssertEqual(try check("0 ok [[:append :x 1]]").anomalyTypes, ["empty-transaction-graph"])
    XCTAssertEqual(try check("0 ok [[:append :x 1]]").valid, .unknown)
  }

  func testOnlyChosenAnomalies() throws {
    var o = TransactionCheckOptions()
    o.consistencyModels = []
    o.anomalies = ["G1c"]
    let h = try history("|\n0 ok [[:r :x []] [:append :y 1]]\n1 ok [[:r :y []] [:append :x 1]]")
    XCTAssertEqual(try TransactionChecks.check(h, model: "list-append", options: o).valid, .valid)
  }

  func testRWRegister() throws {
    let g1c = try check("|\n0 ok [[:w :x 1] [:r :y 1]]\n1 ok [[:w :y 1] [:r :x 1]]", "rw-register")
    XCTAssertEqual(g1c.anomalyTypes, ["G1c"])
    XCTAssertTrue(g1c.text.contains("wrote \"y\" = 1, which was read by"), g1c.text)
    let skew = try check("|\n0 ok [[:r :x nil] [:w :y 1]]\n1 ok [[:r :y nil] [:w :x 1]]", "rw-register", models: ["serializable"])
    XCTAssertEqual(skew.anomalyTypes, ["G2-item"])
    let cyclic = try check("|\n0 ok [[:r :x 1] [:w :x 2]]\n1 ok [[:r :x 2] [:w :x 1]]", "rw-register", wfr: true)
    XCTAssertTrue(cyclic.anomalyTypes.contains("cyclic-versions"), "\(cyclic.anomalyTypes)")
    XCTAssertEqual(try check("0 fail [[:w :x 1]]\n1 ok [[:r :x 1]]", "rw-register").anomalyTypes, ["G1a", "empty-transaction-graph"])
    XCTAssertTrue(try check("0 ok [[:w :x 1] [:r :x 2]]\n1 ok [[:w :x 2]]", "rw-register").anomalyTypes.contains("internal"))
  }

  func testTheReportIsStable() throws {
    let text = "|\n0 ok [[:append :x 1] [:append :y 1]]\n1 ok [[:append :x 2] [:append :y 2]]\n-\n2 ok [[:r :x [1 2]] [:r :y [2 1]]]"
    let first = try check(text)
    for _ in 0..<3 {
      let again = try check(text)
      XCTAssertEqual(again.json, first.json)
      XCTAssertEqual(again.text, first.text)
    }
    XCTAssertTrue(first.json.hasPrefix("{\"alsoNot\":"), first.json)
    XCTAssertTrue(first.json.contains("\"formatVersion\":1"))
    XCTAssertTrue(first.text.split(separator: "\n").allSatisfy { $0.count <= 200 })
  }

  func testGeneratedHistories() throws {
    let valid = ListAppendGenerator(transactions: 2000, seed: 7)
    let h = try History(events: valid.events(), file: "gen")
    XCTAssertEqual(h.operations.count, 2000)
    XCTAssertEqual(try TransactionChecks.check(h, model: "list-append").valid, .valid)
    let stale = ListAppendGenerator(transactions: 2000, seed: 7, anomaly: .staleRead)
    let s = try TransactionChecks.check(History(events: stale.events(), file: "gen"), model: "list-append")
    XCTAssertEqual(s.valid, .invalid)
    XCTAssertTrue(s.not.contains("strong-snapshot-isolation") || s.not.contains("snapshot-isolation") || !s.not.isEmpty, "\(s.not)")
    let aborted = ListAppendGenerator(transactions: 2000, keys: 5, seed: 7, anomaly: .abortedRead)
    let a = try TransactionChecks.check(History(events: aborted.events(), file: "gen"), model: "list-append")
    XCTAssertTrue(a.anomalyTypes.contains("G1a"), "\(a.anomalyTypes)")
  }
}

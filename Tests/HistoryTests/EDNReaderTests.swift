import Foundation
import XCTest

@testable import History

/// Jepsen's EDN, elle-cli's JSON and cthulhu's JSON Lines read into the same events.
final class EDNReaderTests: XCTestCase {
  static let elle = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/histories/elle").standardizedFileURL.path

  func value(_ text: String) throws -> HistoryValue { try EDNReader.value(text) }

  func testEveryKindOfValue() throws {
    XCTAssertEqual(try value("nil"), .null)
    XCTAssertEqual(try value("true"), .bool(true))
    XCTAssertEqual(try value(":append"), .string("append"))
    XCTAssertEqual(try value(":jepsen.history/op"), .string("jepsen.history/op"))
    XCTAssertEqual(try value("some-symbol"), .string("some-symbol"))
    XCTAssertEqual(try value("-42"), .int(-42))
    XCTAssertEqual(try value("+7"), .int(7))
    XCTAssertEqual(try value("12N"), .int(12))
    XCTAssertEqual(try value("99999999999999999999N"), .double(1e20))
    XCTAssertEqual(try value("1.5"), .double(1.5))
    XCTAssertEqual(try value("2e3"), .double(2000))
    XCTAssertEqual(try value("0.25M"), .double(0.25))
    XCTAssertEqual(try value("1/4"), .double(0.25))
    XCTAssertEqual(try value(#""a\"b\\c\nd\u00e9""#), .string("a\"b\\c\nd\u{e9}"))
    XCTAssertEqual(try value(#"[\a \newline \space]"#), .array([.string("a"), .string("\n"), .string(" ")]))
    XCTAssertEqual(try value("[1, 2 ,3]"), .array([.int(1), .int(2), .int(3)]))
    XCTAssertEqual(try value("(1 (2))"), .array([.int(1), .array([.int(2)])]))
    XCTAssertEqual(try value("#{3 1}"), .array([.int(3), .int(1)]))
    XCTAssertEqual(try value("{:a 1, 0 100, \"s\" nil}"), .object(["a": .int(1), "0": .int(100), "s": .null]))
    XCTAssertEqual(try value("[1 #_ 2 #_[3 4] 5]"), .array([.int(1), .int(5)]))
    XCTAssertEqual(try value("{:a #_ :b 1}"), .object(["a": .int(1)]))
    XCTAssertEqual(try value("#inst \"2020-01-01\""), .string("2020-01-01"))
    XCTAssertEqual(try value("#jepsen.history.Op{:type :ok}"), .object(["type": .string("ok")]))
    XCTAssertEqual(try value("[1 ; a comment ]\n 2]"), .array([.int(1), .int(2)]))
  }

  func testMistakesNameLineAndColumn() {
    let cases: [(String, EDNError)] = [
      ("[1 2", .init(line: 1, column: 1, message: "this vector is never closed")),
      ("{:a 1\n :b [1 2}", .init(line: 2, column: 9, message: "found '}' where the vector opened at 2:5 needs ']'")),
      ("[1 2]]", .init(line: 1, column: 6, message: "unexpected ']' with nothing open")),
      ("{:a 1\n :b}", .init(line: 2, column: 2, message: "map key \"b\" has no value")),
      ("\n  \"abc", .init(line: 2, column: 3, message: "this string is never closed")),
      ("\"a\\qb\"", .init(line: 1, column: 3, message: "unknown escape '\\q' in a string")),
      ("[1 2x]", .init(line: 1, column: 4, message: "'2x' is not a number")),
      ("(1\n  #{2 3)", .init(line: 2, column: 8, message: "found ')' where the set opened at 2:3 needs '}'")),
      ("#", .init(line: 1, column: 2, message: "'#' must be followed by '{', '_' or a tag")),
      ("[:]", .init(line: 1, column: 3, message: "a keyword needs a name after ':'")),
      ("\\bogus", .init(line: 1, column: 2, message: "unknown character name '\\bogus'")),
    ]
    for (text, want) in cases {
      XCTAssertThrowsError(try value(text), text) { XCTAssertEqual($0 as? EDNError, want, text) }
    }
  }

  func testHistoryErrorsCarryTheColumn() {
    let text = "{:type :invoke, :f :txn, :process 0, :value [[:r 1 nil]]}\n{:type :ok :process 0 :value [[:r 1 [1 2]]}\n"
    XCTAssertThrowsError(try HistoryParser.parse(Data(text.utf8), file: "h.edn")) { error in
      XCTAssertEqual("\(error)", "h.edn:2:43: error: found '}' where the vector opened at 2:30 needs ']'")
    }
    let json = "[{\"type\":\"invoke\",\"process\":0,\"f\":\"r\"},\n {\"type\": ok}]"
    XCTAssertThrowsError(try HistoryParser.parse(Data(json.utf8), file: "h.json")) { error in
      XCTAssertEqual("\(error)", "h.json:2:11: error: not a JSON array of operations: not a JSON value")
    }
  }

  /// The same history in EDN (bare, vector, list), elle-cli's JSON array and JSON Lines.
  func testEveryFormatGivesTheSameEvents() throws {
    let edn = """
      ; a comment
      {:type :invoke, :f :txn, :value [[:append 1 2] [:r 1 nil]], :process 0, :time 5, :index 0}
      {:type :info, :f :start, :process :nemesis, :value nil}
      {:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [2]]], :process 0, :time 9, :index 1}
      """
    let json = """
      [{"type":"invoke","f":"txn","value":[["append",1,2],["r",1,null]],"process":0,"time":5,"index":0},
      {"type":"info","f":"start","process":"nemesis","value":null},
      {"type":"ok","f":"txn","value":[["append",1,2],["r",1,[2]]],"process":0,"time":9,"index":1}]
      """
    let lines = json.dropFirst().dropLast().replacingOccurrences(of: "},\n", with: "}\n")
    let inputs: [(String, String)] = [
      ("h.edn", edn), ("history", edn), ("h.edn", "[" + edn + "]"), ("h", "(" + edn + "\n)"),
      ("h.json", json), ("history", json), ("h.jsonl", lines), ("h.json", lines),
    ]
    var seen: [[HistoryEvent]] = []
    for (file, text) in inputs {
      var events = try HistoryParser.parse(Data(text.utf8), file: file)
      for i in events.indices { events[i].line = 0 }
      seen.append(events)
    }
    XCTAssertEqual(seen[0].count, 2)
    XCTAssertEqual(seen[0][1].value, .array([.array([.string("append"), .int(1), .int(2)]), .array([.string("r"), .int(1), .array([.int(2)])])]))
    XCTAssertEqual(seen[0][1].time, 9)
    for (i, s) in seen.enumerated() { XCTAssertEqual(s, seen[0], inputs[i].0) }
    XCTAssertEqual(HistoryFormat.of(file: "x", data: Data(json.utf8)), .jsonArray)
    XCTAssertEqual(HistoryFormat.of(file: "x", data: Data(lines.utf8)), .jsonLines)
    XCTAssertEqual(HistoryFormat.of(file: "x", data: Data(edn.utf8)), .edn)
  }

  /// An operation without `:process` pairs with the oldest outstanding one of the same `:f`, and is a process of its own.
  func testMissingProcessAndF() throws {
    let h = try History(contentsOf: Self.elle + "/elle-repo/paper-example.edn")
    XCTAssertEqual(h.operations.count, 4)
    XCTAssertTrue(h.operations.allSatisfy { $0.process < 0 && $0.f == "" && $0.outcome == .ok })
    XCTAssertEqual(Set(h.operations.map(\.process)).count, 4)
    let c = try History(contentsOf: Self.elle + "/custom/comments.edn")
    XCTAssertEqual(c.operations.map(\.f), ["read", "write", "write"])
    XCTAssertEqual(c.operations[0].result?.json.hasPrefix("[2,10,15"), true)
    XCTAssertEqual(c.operations[1].result, .int(425))
  }

  /// Every published Jepsen and elle-cli file reads and pairs, read where it is.
  func testEveryPublishedFileParses() throws {
    let files = try FileManager.default.subpathsOfDirectory(atPath: Self.elle).filter { $0.hasSuffix(".edn") || $0.hasSuffix(".json") }.sorted()
    XCTAssertEqual(files.count, 30)
    var counts: [String: Int] = [:]
    for f in files {
      let h = try History(contentsOf: Self.elle + "/" + f)
      XCTAssertFalse(h.operations.isEmpty, f)
      counts[f] = h.operations.count
    }
    XCTAssertEqual(counts["elle/rw-register.edn"], 3)
    XCTAssertEqual(counts["elle/rw-register.json"], 3)
    XCTAssertEqual(counts["elle-repo/huge-scc.edn"].map { $0 > 10000 }, true)
    // Files that say the same thing in two formats give the same operations.
    for (a, b) in [("jepsen/bank.edn", "jepsen/bank.json"), ("knossos/mutex/bad/etcd.edn", "knossos/mutex/bad/etcd.json")] {
      let x = try History(contentsOf: Self.elle + "/" + a).operations.map {
        [$0.process, $0.f, $0.argument.json, $0.result?.json ?? "-"] as [AnyHashable]
      }
      let y = try History(contentsOf: Self.elle + "/" + b).operations.map {
        [$0.process, $0.f, $0.argument.json, $0.result?.json ?? "-"] as [AnyHashable]
      }
      XCTAssertEqual(x, y, a)
    }
  }
}

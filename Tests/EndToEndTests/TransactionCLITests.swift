import Foundation
import TestSupport
import XCTest

/// `cthulhu check --model list-append|rw-register` through the built binary:
/// exit codes, Elle's options, the words, the picture and `--json`.
final class TransactionCLITests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws { dir = try Harness.tempDir("txn") }
  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  static let elle = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("../shared/histories/elle").standardizedFileURL.path

  /// Write skew: each transaction reads what the other appends to, concurrently.
  static let writeSkew = """
    {:process 0, :type :invoke, :f :txn, :value [[:r :x nil] [:append :y 1]]}
    {:process 1, :type :invoke, :f :txn, :value [[:r :y nil] [:append :x 1]]}
    {:process 0, :type :ok, :f :txn, :value [[:r :x []] [:append :y 1]]}
    {:process 1, :type :ok, :f :txn, :value [[:r :y []] [:append :x 1]]}
    """

  func testVerdictsAsExitCodes() throws {
    let h = dir + "/skew.edn"
    try Self.writeSkew.write(toFile: h, atomically: true, encoding: .utf8)
    let bad = try Harness.cthulhu(["check", "--model", "list-append", h])
    XCTAssertEqual(bad.status, 2, bad.stdout + bad.stderr)
    XCTAssertTrue(bad.stdout.hasPrefix("invalid: list-append, 2 transactions: G2-item; not repeatable-read\n"), bad.stdout)
    XCTAssertTrue(bad.stdout.contains("which T2 created by appending 1"), bad.stdout)
    // The words and a picture of the cycle, beside the history.
    XCTAssertTrue(bad.stdout.hasSuffix("\nPicture: \(h).html\n"), bad.stdout)
    let page = try String(contentsOfFile: h + ".html", encoding: .utf8)
    XCTAssertTrue(page.contains("<h2 id=\"G2-item-1\">G2-item #1</h2>"), page)
    XCTAssertTrue(page.contains("<svg") && page.contains(">rw &quot;x&quot; = 1</text>"), page)
    let svg = try Harness.cthulhu(["check", "--model", "list-append", "--picture", dir + "/cycle.svg", h])
    XCTAssertEqual(svg.status, 2)
    XCTAssertTrue(try String(contentsOfFile: dir + "/cycle.svg", encoding: .utf8).hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    let si = try Harness.cthulhu(["check", "--model", "list-append", "--consistency-models", "snapshot-isolation", h])
    XCTAssertEqual(si.status, 0, si.stdout + si.stderr)
    XCTAssertEqual(si.stdout, "valid: list-append, 2 transactions\n")
    let json = try Harness.cthulhu(["check", "--model", "list-append", "--json", h])
    XCTAssertEqual(json.status, 2)
    let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    XCTAssertEqual(o["formatVersion"] as? Int, 1)
    XCTAssertEqual(o["valid"] as? Bool, false)
    XCTAssertEqual(o["anomalyTypes"] as? [String], ["G2-item"])
    XCTAssertEqual(o["not"] as? [String], ["repeatable-read"])
    XCTAssertNotNil((o["anomalies"] as? [String: Any])?["G2-item"])
  }

  func testPublishedFilesAndOptions() throws {
    let rw = try Harness.cthulhu(["check", "--model", "rw-register", "--no-picture", Self.elle + "/elle/rw-register.json"])
    XCTAssertEqual(rw.status, 0, rw.stdout + rw.stderr)
    let gh30 = try Harness.cthulhu([
      "check", "--model", "list-append", "--consistency-models", "serializable", "--cycle-search-timeout", "1000", "--no-picture",
      Self.elle + "/elle/list-append-gh-30.edn",
    ])
    XCTAssertEqual(gh30.status, 2, gh30.stdout + gh30.stderr)
    let unknown = try Harness.cthulhu([
      "check", "--model", "list-append", "--consistency-models", "bogus", "--no-picture", Self.elle + "/elle/paper-example.edn",
    ])
    XCTAssertEqual(unknown.status, 64, unknown.stderr)
    XCTAssertTrue(unknown.stderr.contains("--consistency-models: unknown model 'bogus'"), unknown.stderr)
  }

  func testMalformedExitsOne() throws {
    let h = dir + "/bad.edn"
    try "{:process 0 :type :invoke :value [[:append :x 1]\n".write(toFile: h, atomically: true, encoding: .utf8)
    let r = try Harness.cthulhu(["check", "--model", "list-append", h])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("bad.edn:1:34: error: this vector is never closed"), r.stderr)
  }
}

import Foundation
import TestSupport
import XCTest

@testable import History

/// `report.html` from a run folder: what the page holds, and what a person
/// sees of it in a real browser (headless Chromium).
final class RunReportTests: XCTestCase {
  var dir = ""

  override func setUp() async throws {
    dir = NSTemporaryDirectory() + "cthulhu-report-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() async throws { try? FileManager.default.removeItem(atPath: dir) }

  /// A run of 10 s: 5 workers writing and reading a register every 20 ms;
  /// during the partition from 3 s to 5 s the operations time out (info)
  /// or are refused (fail), and latency rises.
  func writeRun(valid: String = "false") throws {
    var lines: [String] = []
    let t0: UInt64 = 5_000_000_000
    var g = SystemRandomNumberGenerator()
    for p in 0..<5 {
      var t = Double(p) * 0.004
      while t < 10 {
        let cut = t >= 3 && t < 5
        let f = Int.random(in: 0..<3, using: &g) == 0 ? "write" : "read"
        let latency = cut ? Double.random(in: 0.05...0.5, using: &g) : Double.random(in: 0.001...0.01, using: &g)
        let type = cut ? (Bool.random(using: &g) ? "info" : "fail") : "ok"
        lines.append(#"{"process": \#(p), "type": "invoke", "f": "\#(f)", "value": null, "time": \#(t0 + UInt64(t * 1e9))}"#)
        lines.append(#"{"process": \#(p), "type": "\#(type)", "f": "\#(f)", "value": 1, "time": \#(t0 + UInt64((t + latency) * 1e9))}"#)
        t += latency + 0.02
      }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/history.jsonl", atomically: true, encoding: .utf8)
    try """
    {"formatVersion": 1, "workload": "register", "valid": \(valid), "model": "cas-register", "interrupted": false, "seed": 42,
     "startedAt": "2026-12-06T05:00:00.000Z", "endedAt": "2026-12-06T05:00:10.000Z",
     "counts": {"read": {"ok": 300, "fail": 20, "info": 12}, "write": {"ok": 150, "fail": 9, "info": 7}},
     "latency": {"read": {"p50": 4.1, "p95": 9.2, "p99": 310, "max": 498}},
     "faults": [{"name": "partition (cut) {i002} from the other instances", "start": 3, "end": 5}, {"name": "kill i003", "start": 7, "end": 7.5}],
     "checker": {"valid": false, "explanation": "read of 3 by process 2 at 4.2s saw a value overwritten at 4.1s <stale & read>",
                 "violation": {"key": "k1", "minimal": true, "states": ["3"],
                               "witness": [{"id": 7, "process": 1, "f": "write", "value": 4, "outcome": "ok", "line": 13},
                                           {"id": 9, "process": 2, "f": "read", "value": null, "outcome": "ok", "result": 3, "line": 17}],
                               "blocked": {"id": 9, "process": 2, "f": "read", "value": null, "outcome": "ok", "result": 3, "line": 17}}},
     "properties": [{"id": "a leader was elected", "assert": "sometimes", "passed": true, "hits": 4},
                    {"id": "at most one leader per term", "assert": "always", "passed": false, "hits": 9, "reason": "seen false 1 of 9 times", "details": {"term": 4}}]}
    """.write(toFile: dir + "/results.json", atomically: true, encoding: .utf8)
  }

  func testThePageHoldsTheVerdictThePlotsTheFaultsAndTheTables() throws {
    try writeRun()
    let path = try RunReport.write(folder: dir)
    XCTAssertEqual(path, dir + "/report.html")
    let html = try String(contentsOfFile: path, encoding: .utf8)
    XCTAssertTrue(html.contains(#"<h1 id="verdict">INVALID</h1>"#))
    XCTAssertFalse(html.contains("<script"), "no script")
    XCTAssertFalse(html.contains("http://") || html.contains("https://"), "nothing from the network")
    XCTAssertEqual(html.components(separatedBy: #"<rect class="fault""#).count - 1, 6, "two fault periods shaded in each of three plots")
    XCTAssertTrue(html.contains("saw a value overwritten at 4.1s &lt;stale &amp; read&gt;"), "the checker's explanation, escaped")
    XCTAssertTrue(html.contains(#"Not linearizable on key <b>k1</b>"#))
    XCTAssertTrue(
      html.contains(
        #"<tr class="failed"><td>9</td><td>2</td><td>read</td><td>null</td><td>ok</td><td>3</td><td>17</td></tr>"#),
      "the blocked operation last, marked")
    XCTAssertEqual(html.components(separatedBy: "<td>17</td>").count - 1, 1, "once, though the witness ends with it")
    XCTAssertTrue(
      html.contains(
        #"<tr class="failed"><td>at most one leader per term</td><td>always</td><td>FAILED</td><td>9</td><td>seen false 1 of 9 times</td><td>{&quot;term&quot;:4}</td></tr>"#
      ))
    XCTAssertTrue(html.contains("2 properties, 1 failed"))
    let run = try RunData.load(folder: dir)
    XCTAssertEqual(Set(run.operations.map(\.type)), [.ok, .fail, .info])
    XCTAssertEqual(run.operations.count * 2, try String(contentsOfFile: dir + "/history.jsonl", encoding: .utf8).split(separator: "\n").count)
    XCTAssertTrue(run.operations.filter { $0.start >= 3.05 && $0.end < 4.95 }.allSatisfy { $0.type != .ok }, "times from the first invoke")
  }

  func testAnOperationWithoutItsCompletionIsInfoToTheEndAndAnEmptyRunStillRenders() throws {
    let events = [
      HistoryEvent(process: 1, type: .invoke, f: "write", time: 1_000_000_000),
      HistoryEvent(process: 2, type: .invoke, f: "read", time: 1_500_000_000),
      HistoryEvent(process: 2, type: .ok, f: "read", time: 3_000_000_000),
    ]
    let run = RunData(results: .object(["valid": .string("unknown")]), events: events)
    XCTAssertEqual(run.verdict, "unknown")
    XCTAssertEqual(
      run.operations, [.init(process: 1, f: "write", type: .info, start: 0, end: 2), .init(process: 2, f: "read", type: .ok, start: 0.5, end: 2)])
    let fromStart = RunData(results: .object(["monotonicStartNs": .int(500_000_000)]), events: events)
    XCTAssertEqual(fromStart.operations.map(\.start), [0.5, 1], "times from the run's start when results.json gives it")
    let empty = RunReport(run: RunData(results: .object([:]), events: [])).html
    XCTAssertTrue(empty.contains(#"<h1 id="verdict">UNKNOWN</h1>"#))
    XCTAssertTrue(empty.contains("The system stated none."))
    XCTAssertThrowsError(try RunData.load(folder: dir + "/nosuch"))
  }

  // MARK: - In a real browser

  static var chromium: String? {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs headless Chromium on the page with `args`; its stdout, within a minute.
  func browse(_ args: [String]) throws -> String {
    try Harness.require(Self.chromium != nil, "headless Chromium is not installed (Debian: apt-get install chromium)")
    let exe = Self.chromium!
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir)/profile"] + args
    // Its output to a file, read once it has exited: no pipe to drain meanwhile.
    let outPath = dir + "/chromium-\(UUID().uuidString.prefix(8)).out"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    let out = try XCTUnwrap(FileHandle(forWritingAtPath: outPath))
    defer { try? out.close() }
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(60)
    while p.isRunning, Date() < deadline { usleep(50_000) }
    if p.isRunning {
      kill(p.processIdentifier, SIGKILL)
      XCTFail("chromium did not finish within 60 s")
    }
    p.waitUntilExit()
    return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
  }

  func testAPersonSeesTheVerdictTheShadedFaultsAndThePlotsInABrowser() throws {
    try writeRun()
    let page = try RunReport.write(folder: dir)
    let dom = try browse(["--dump-dom", "file://" + page])
    XCTAssertTrue(dom.contains(#"<h1 id="verdict">INVALID</h1>"#), String(dom.prefix(500)))
    XCTAssertEqual(dom.components(separatedBy: #"<rect class="fault""#).count - 1, 6, "the fault periods are shaded in the page the browser built")
    for id in ["operations", "latency", "throughput"] { XCTAssertTrue(dom.contains(#"<svg id="\#(id)""#), id) }
    XCTAssertTrue(dom.range(of: #"<path class="op ok" stroke-width="[0-9.]+" d="M[0-9]"#, options: .regularExpression) != nil, "operations drawn")
    XCTAssertTrue(dom.contains(#"<path class="quantile p99" d="M"#), "quantiles drawn")
    XCTAssertTrue(dom.contains(#"<path class="rate ok" d="M"#), "throughput drawn")
    let shot = dir + "/report.png"
    _ = try browse(["--screenshot=\(shot)", "--window-size=1000,1800", "file://" + page])
    let png = try XCTUnwrap(FileManager.default.contents(atPath: shot), "no screenshot")
    XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
    XCTAssertGreaterThan(png.count, 20_000, "a page with plots, not a blank one")
    if let keep = ProcessInfo.processInfo.environment["CTHULHU_REPORT_SCREENSHOT"] {
      try? FileManager.default.removeItem(atPath: keep)
      try FileManager.default.copyItem(atPath: shot, toPath: keep)
    }
  }
}

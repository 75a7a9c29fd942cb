import Foundation
import History
import XCTest

@testable import Runner

/// After results.json: the run's properties (only this run's hits; earlier
/// lines only declare), a failed one making the run invalid, and report.html.
final class AfterResultsTests: XCTestCase {
  var root = ""

  override func setUp() async throws {
    root = NSTemporaryDirectory() + "cthulhu-after-results-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDown() async throws { try? FileManager.default.removeItem(atPath: root) }

  func append(_ line: String, to path: String) throws {
    let h = try XCTUnwrap(
      FileHandle(forWritingAtPath: path)
        ?? { FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil }())
    defer { try? h.close() }
    h.seekToEndOfFile()
    h.write(Data((line + "\n").utf8))
  }

  func testThisRunsPropertiesDecideAndTheReportIsWritten() throws {
    let folder = try RunFolder.create(root: root, workload: "w", time: Date())
    XCTAssertEqual(RunProperties.files(folder: folder), [folder.assertions], "no fixture here: the clients' file only")
    // Before the run: a declaration, and a hit of another run.
    try append(#"{"assert": "sometimes", "id": "a follower caught up", "hit": false}"#, to: folder.assertions)
    try append(#"{"assert": "sometimes", "id": "a leader was elected", "condition": true}"#, to: folder.assertions)
    try RunProperties.markStart(folder: folder)
    try append(#"{"assert": "always", "id": "at most one leader per term", "condition": true}"#, to: folder.assertions)
    try append(#"{"assert": "always", "id": "at most one leader per term", "condition": false}"#, to: folder.assertions)
    try append("garbage", to: folder.assertions)
    try
      (#"{"process": 0, "type": "invoke", "f": "read", "value": null, "time": 1000}"# + "\n"
      + #"{"process": 0, "type": "ok", "f": "read", "value": 3, "time": 2000000}"# + "\n").write(
        toFile: folder.history, atomically: true, encoding: .utf8)

    let results = RunResults(
      workload: "w", valid: .valid, model: "register", interrupted: false, seed: 1, startedAt: Date(), endedAt: Date(),
      faults: [.init(name: "partition", start: 0.0005, end: nil)])
    let out = try AfterResults.run(folder: folder, results: results)
    XCTAssertEqual(
      out.properties,
      [
        .init(id: "a follower caught up", assert: "sometimes", hits: 0, satisfied: 0, passed: false, reason: "never reached"),
        .init(id: "a leader was elected", assert: "sometimes", hits: 0, satisfied: 0, passed: false, reason: "never reached"),
        .init(
          id: "at most one leader per term", assert: "always", hits: 2, satisfied: 1, passed: false,
          reason: "seen false 1 of 2 times (first at \(folder.assertions):4)", at: "\(folder.assertions):4"),
      ])
    XCTAssertEqual(out.valid, .invalid, "a failed property makes the run invalid")
    XCTAssertEqual(out.problems, ["assertions: \(folder.assertions):5: not a JSON object"])
    let page = try String(contentsOfFile: folder.report, encoding: .utf8)
    XCTAssertTrue(page.contains(#"<h1 id="verdict">INVALID</h1>"#))
    XCTAssertTrue(page.contains("3 properties, 3 failed"))
    XCTAssertEqual(page.components(separatedBy: #"<rect class="fault""#).count - 1, 3, "a fault never healed is shaded to the end")
  }
}

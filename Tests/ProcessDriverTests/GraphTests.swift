import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// `cthulhu graph` through the binary (issue 17), on ProcessEndToEndTests'
/// fixture: the picture of a running fixture shows its partition, in every
/// format; SVG needs Graphviz and says so when it is missing.
extension ProcessEndToEndTests {
  func testGraphOfAFixtureWithAPartitionInForce() async throws {
    try Host.requireRoot()
    let dot = ["/usr/bin/dot", "/usr/local/bin/dot"].first { FileManager.default.isExecutableFile(atPath: $0) }
    try Host.require(dot != nil, "Graphviz's dot is missing (apt install graphviz)")
    try writeManifest(count: 3, mode: "namespaces")
    // Not applied yet: the topology as planned, no engine needed.
    let planned = try cthulhu("graph")
    XCTAssertEqual(planned.status, 0, planned.stderr)
    XCTAssertTrue(planned.stdout.contains("flowchart LR") && planned.stdout.contains("i003"), planned.stdout)
    try mustSucceed("apply")
    try mustSucceed("partition", "i001", "i002,i003")
    try mustSucceed("kill", "i003")

    let mermaid = try cthulhu("graph")
    XCTAssertTrue(mermaid.stdout.contains("cut_f1{{\"✂ f1 partition<br/>{i001} | {i002,i003}\"}}"), mermaid.stdout)
    XCTAssertTrue(mermaid.stdout.contains("i002 -.-x cut_f1"), mermaid.stdout)
    XCTAssertTrue(mermaid.stdout.contains("class i003 down"), mermaid.stdout)
    let svg = dir + "/fixture.svg"
    let r = try cthulhu("graph", "--format", "svg", "-o", svg)
    XCTAssertEqual(r.status, 0, r.stderr)
    let text = try String(contentsOfFile: svg, encoding: .utf8)
    XCTAssertTrue(text.contains("<svg"), String(text.prefix(200)))
    XCTAssertTrue(text.contains("✂ f1"), "the cut is labelled in the picture")
    XCTAssertTrue(text.contains("(exited)"))

    let none = try Host.run(Host.cthulhuBinary, ["graph", "--format", "svg"], in: dir, env: ["PATH": dir])
    XCTAssertEqual(none.status, 1)
    XCTAssertTrue(none.stderr.contains("needs Graphviz's dot on PATH (Debian: apt install graphviz)"), none.stderr)

    // plan --graph: a fourth instance is drawn as added.
    try writeManifest(count: 4, mode: "namespaces")
    let plan = try cthulhu("plan", "--graph", "mermaid")
    XCTAssertEqual(plan.status, 0, plan.stderr)
    XCTAssertTrue(plan.stdout.contains("class i004 added"), plan.stdout)
  }
}

extension ProcessEndToEndTests {
  /// `events --html`: one page, a row per instance and client, the steps as
  /// bars, a fault as a band from its making to its lifting.
  func testEventsAsOneHTMLPageWithAFaultBandAndClientOperations() async throws {
    try Host.requireRoot()
    try writeManifest(count: 2, mode: "namespaces")
    try mustSucceed("apply")
    try mustSucceed("isolate", "i002")
    try mustSucceed("stop", "i001")
    try mustSucceed("heal")
    try mustSucceed("start", "i001")
    // Two client operations, on the clock the events use (CLOCK_MONOTONIC, ns).
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    let now = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    try """
    {"process": 1, "type": "invoke", "f": "write", "value": 7, "time": \(now - 400_000_000)}
    {"process": 1, "type": "ok", "f": "write", "value": 7, "time": \(now - 300_000_000)}

    """.write(toFile: root + "/history.jsonl", atomically: true, encoding: .utf8)
    let page = dir + "/page.html"
    let r = try cthulhu("events", "--html", "-o", page)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("and 2 history lines on one time axis"), r.stdout)
    let html = try String(contentsOfFile: page, encoding: .utf8)
    XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg"), String(html.prefix(200)))
    for row in [">fixture</text>", ">i001</text>", ">i002</text>", ">client 1</text>"] { XCTAssertTrue(html.contains(row), row) }
    XCTAssertTrue(html.contains("<title>f1: isolate i002 (lifted after"), "the isolation is a band that ends at the heal")
    XCTAssertTrue(html.contains("apply"), "the apply's steps are drawn")
    XCTAssertTrue(html.contains("write 7 → ok 7"), "the client operation is a bar")
    XCTAssertFalse(html.contains("<script"), "self-contained, no script")
    XCTAssertEqual(try cthulhu("events", "--html", "--follow").status, 64, "--html is one page, not a stream")
  }
}

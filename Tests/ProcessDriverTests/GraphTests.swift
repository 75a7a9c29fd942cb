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

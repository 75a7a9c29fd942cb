import Foundation
import XCTest

@testable import History

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The picture of a cycle anomaly: well-formed SVG that names each
/// transaction of the cycle and labels each step, on a published history.
final class CyclePictureTests: XCTestCase {
  /// Collects the text and `<title>`s of an SVG, and whether it parsed.
  final class Texts: NSObject, XMLParserDelegate {
    var text = ""
    var root: String?
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:])
    {
      if root == nil { root = name }
      text += "\n"
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
  }

  func parsed(_ xml: String, file: StaticString = #filePath, line: UInt = #line) -> Texts {
    let texts = Texts()
    let parser = XMLParser(data: Data(xml.utf8))
    parser.delegate = texts
    XCTAssertTrue(parser.parse(), "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", file: file, line: line)
    return texts
  }

  func testAPublishedGSingleIsDrawnWithEveryTransactionAndStep() throws {
    // Elle's paper example: a G-single-item (read skew) among 6 transactions.
    let path = PublishedElleTests.folder + "/elle/paper-example.edn"
    let report = try TransactionChecks.check(History(contentsOf: path), model: "list-append")
    let anomaly = try XCTUnwrap(report.anomalies["G-single-item"]?.first, "\(report.anomalyTypes)")
    let picture = try XCTUnwrap(CyclePicture(anomaly))
    guard case .object(let data) = anomaly.data, case .array(let cycle)? = data["cycle"], case .array(let steps)? = data["steps"] else {
      return XCTFail("a cycle anomaly without its cycle")
    }
    XCTAssertGreaterThanOrEqual(cycle.count, 2)
    let svg = parsed(picture.svg())
    XCTAssertEqual(svg.root, "svg")
    for (i, t) in cycle.enumerated() {
      guard case .object(let o) = t, case .int(let id)? = o["op"] else { return XCTFail("a transaction without its op") }
      XCTAssertTrue(svg.text.contains("T\(i + 1) = op \(id), line "), "T\(i + 1) (op \(id)) is not named:\n\(svg.text)")
      XCTAssertTrue(svg.text.contains(picture.nodes[i].mops), picture.nodes[i].mops)
      XCTAssertTrue(picture.nodes[i].mops.hasPrefix("[[:"), "micro-ops as the words write them: \(picture.nodes[i].mops)")
    }
    for s in steps {
      guard case .object(let o) = s, let kind = o["type"]?.string else { return XCTFail("a step without its kind") }
      XCTAssertTrue(["ww", "wr", "rw", "process", "realtime"].contains(kind), kind)
      let key = try XCTUnwrap(o["key"], "a data step names its key")
      let value = try XCTUnwrap(o["value"], "a data step names its value")
      let label = "\(kind) \(MicroOp.edn(key)) = \(MicroOp.edn(value))"
      XCTAssertTrue(svg.text.contains(label), "no label \(label):\n\(svg.text)")
    }
  }

  func testThePageHoldsTheWordsAndEachCycleAndEscapesWhatXMLCannotHold() throws {
    // A G-single-item of two transactions (T1 missed T2's append to k, but saw its append to j), with a key that needs escaping.
    let lines = [
      #"{"process": 0, "type": "invoke", "f": "txn", "value": [["r", "<k&\u0001>", null], ["r", "j", null]]}"#,
      #"{"process": 1, "type": "invoke", "f": "txn", "value": [["append", "<k&\u0001>", 2], ["append", "j", 1]]}"#,
      #"{"process": 1, "type": "ok", "f": "txn", "value": [["append", "<k&\u0001>", 2], ["append", "j", 1]]}"#,
      #"{"process": 0, "type": "ok", "f": "txn", "value": [["r", "<k&\u0001>", []], ["r", "j", [1]]]}"#,
    ]
    let history = try History(events: HistoryParser.parse(Data(lines.joined(separator: "\n").utf8), file: "h.jsonl"), file: "h.jsonl")
    var options = TransactionCheckOptions()
    options.consistencyModels = ["serializable"]
    let report = try TransactionChecks.check(history, model: "list-append", options: options)
    XCTAssertEqual(report.anomalyTypes, ["G-single-item"])
    let pictures = report.cyclePictures
    XCTAssertEqual(pictures.map(\.title), ["G-single-item #1"])
    XCTAssertEqual(Set(pictures[0].edges.map(\.kind)), ["wr", "rw"])
    let svg = parsed(pictures[0].svg())
    // The key's control character is written as JSON writes it; < and & as XML escapes them.
    XCTAssertTrue(svg.text.contains(#"rw "<k&\u0001>" = 2"#), svg.text)
    XCTAssertTrue(svg.text.contains(#"wr "j" = 1"#), svg.text)
    let page = report.html(title: "h.jsonl")
    XCTAssertTrue(page.contains("<h2 id=\"G-single-item-1\">G-single-item #1</h2>"))
    XCTAssertTrue(page.contains(Html.escape(report.verdictLine)))
    // The page's SVG is the picture itself.
    XCTAssertTrue(page.contains(pictures[0].svg()))
  }
}

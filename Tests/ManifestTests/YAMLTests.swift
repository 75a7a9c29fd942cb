import Foundation
import XCTest

@testable import Manifest

/// The libyaml-backed loader: aliases, limits, YAML 1.1 surprises, encodings.
final class YAMLTests: XCTestCase {
  func parse(_ text: String) throws -> YAMLNode? {
    try YAMLParser(text: Array(text.utf8), file: "t.yaml").parse()
  }

  func testNodesCarryLineAndColumn() throws {
    let root = try XCTUnwrap(try parse("a:\n  - x\n  - 'y'\nb: {c: d}\n"))
    guard case .mapping(let pairs) = root.kind else { return XCTFail("not a mapping") }
    XCTAssertEqual(pairs.map { $0.key.scalar }, ["a", "b"])
    XCTAssertEqual(pairs[1].key.location, SourceLocation(file: "t.yaml", line: 4, column: 1))
    guard case .sequence(let items) = pairs[0].value.kind else { return XCTFail("not a list") }
    XCTAssertEqual(items[1].location.line, 3)
    XCTAssertEqual(items[1].location.column, 5)
    XCTAssertEqual(items[0].kind, .scalar("x", plain: true))
    XCTAssertEqual(items[1].kind, .scalar("y", plain: false))
  }

  func testTagsAreKeptAndStrTagMakesAString() throws {
    let root = try XCTUnwrap(try parse("a: !!str 3\nb: !custom {x: 1}\nc: 4\n"))
    guard case .mapping(let pairs) = root.kind else { return XCTFail("not a mapping") }
    XCTAssertEqual(pairs[0].value.kind, .scalar("3", plain: false))
    XCTAssertEqual(pairs[0].value.tag, "tag:yaml.org,2002:str")
    XCTAssertEqual(pairs[1].value.tag, "!custom")
    XCTAssertNil(pairs[2].value.tag)
    XCTAssertEqual(pairs[2].value.kind, .scalar("4", plain: true))
  }

  func testAnchorsAndAliasesAreResolved() throws {
    let dir = try TempDir()
    let m2 = try load(
      """
      fixture: anchors
      groups:
        a: &base
          image: &img app:1
          env: &env { A: "1" }
        b:
          image: *img
          env: *env
          count: 2
      """, in: dir)
    XCTAssertEqual(m2.groups[1].source, .image("app:1"))
    XCTAssertEqual(m2.groups[1].env.map(\.value), ["1"])
    let root = try XCTUnwrap(try parse("x: &a [1, 2]\ny: *a\n"))
    guard case .mapping(let pairs) = root.kind else { return XCTFail() }
    XCTAssertEqual(pairs[1].value.location.line, 2, "an alias node sits where the alias is written")
    XCTAssertEqual(pairs[1].value.kind, pairs[0].value.kind)
  }

  func testAliasBombIsRefusedQuickly() {
    var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in 1...9 {
      text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n"
    }
    let start = ContinuousClock.now
    XCTAssertThrowsError(try parse(text)) { error in
      let d = error as! Diagnostic
      XCTAssertTrue(d.message.hasPrefix("aliases expand to more than 100000 nodes"), d.message)
      XCTAssertEqual(d.location.line, 5, "a4, the first list whose aliases pass the bound")
    }
    XCTAssertLessThan(ContinuousClock.now - start, .seconds(2))
  }

  func testDuplicateKeysAreAnError() throws {
    let dir = try TempDir()
    XCTAssertEqual(
      problems("fixture: a\ngroups:\n  x:\n    image: a\n    image: b\n", in: dir),
      ["5:5: duplicate key 'image' (first at line 4)"])
  }

  func testYAML11ScalarsStayAsWrittenWhereStringsAreExpected() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: "no"
      vars:
        country: no
        mode: 0644
        sci: 1e3
        on: on
      groups:
        "on":
          image: yes
          command: [no, off, 0755, 1e3, 0x1F, ~x]
          env: { A: no, B: 0644, C: 1.0, D: true, E: 1_000 }
      """, in: dir)
    XCTAssertEqual(m.fixture, "no")
    XCTAssertEqual(m.vars.map(\.key), ["country", "mode", "sci", "on"])
    XCTAssertEqual(m.vars[0].value, .string("no"))
    XCTAssertEqual(m.vars[3].value, .string("on"))
    let g = m.groups[0]
    XCTAssertEqual(g.name, "on")
    XCTAssertEqual(g.source, .image("yes"))
    XCTAssertEqual(g.command, ["no", "off", "0755", "1e3", "0x1F", "~x"])
    XCTAssertEqual(g.env.map(\.value), ["no", "0644", "1.0", "true", "1_000"])
  }

  func testStrictNumbersWhereNumbersAreExpected() throws {
    let dir = try TempDir()
    XCTAssertEqual(
      problems("fixture: a\ngroups:\n  x:\n    image: a\n    count: \"3\"\n", in: dir),
      ["5:12: 'count' of group 'x' must be a whole number, not '3'"])
    XCTAssertEqual(
      problems("fixture: a\ngroups:\n  x:\n    image: a\n    count: yes\n", in: dir),
      ["5:12: 'count' of group 'x' must be a whole number, not 'yes'"])
  }

  func testEmptyInput() throws {
    let dir = try TempDir()
    let expected = ["1:1: manifest is empty; it needs at least 'fixture' and 'groups'"]
    XCTAssertEqual(problems("", in: dir), expected)
    XCTAssertEqual(problems("# only a comment\n", in: dir), expected)
    XCTAssertEqual(problems("---\n", in: dir), expected)
  }

  func testInvalidUTF8IsReportedWithItsPlace() throws {
    let dir = try TempDir()
    var bytes = Array("fixture: a\ngroups:\n  x:\n    image: ab".utf8)
    bytes.append(0xFF)
    bytes += Array("c\n".utf8)
    let p = problems(bytes: bytes, in: dir)
    XCTAssertEqual(p.count, 1)
    XCTAssertTrue(p[0].hasPrefix("4:14: the manifest is not valid UTF-8"), p[0])
    // Well-formed UTF-8 that YAML does not allow is said as such.
    var bell = Array("fixture: a\ngroups:\n  x:\n    image: ab".utf8)
    bell.append(0x07)
    bell += Array("c\n".utf8)
    let q = problems(bytes: bell, in: dir)
    XCTAssertEqual(q.count, 1)
    XCTAssertTrue(q[0].hasPrefix("4:14: the manifest is not readable text"), q[0])
  }

  func testMultipleDocumentsAreRefused() throws {
    let dir = try TempDir()
    XCTAssertEqual(
      problems("fixture: a\ngroups: {x: {image: a}}\n---\nfixture: b\n", in: dir),
      ["3:1: a manifest is one YAML document; remove the second '---'"])
  }

  func testDeepNestingIsRefused() throws {
    let text = "a: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "\n"
    XCTAssertThrowsError(try parse(text)) { error in
      XCTAssertTrue((error as! Diagnostic).message.hasPrefix("nesting deeper than"))
    }
  }

  func testUnknownAlias() throws {
    let dir = try TempDir()
    XCTAssertEqual(problems("fixture: *nope\n", in: dir), ["1:10: unknown alias '*nope'"])
  }

  func testRenderQuotesTheLineWithACaret() throws {
    let dir = try TempDir()
    let text = "fixture: a\ngroups:\n  server:\n    image: a\n    comand: [x]\n"
    do {
      _ = try ManifestLoader.decode(bytes: Array(text.utf8), displayPath: "manifests/x.yaml", absolutePath: dir.manifestPath)
      XCTFail("should not load")
    } catch {
      XCTAssertEqual(
        error.render(),
        """
        manifests/x.yaml:5:5: error: unknown key 'comand' in group 'server'; did you mean 'command'?
            comand: [x]
            ^
        1 error

        """)
    }
  }

  func testMissingFileIsReported() {
    XCTAssertThrowsError(try ManifestLoader.load(path: "/nonexistent/cthulhu.yaml")) { error in
      let e = error as! ManifestErrors
      XCTAssertEqual(e.render(), "/nonexistent/cthulhu.yaml: error: no such manifest (create one with `cthulhu init`)\n1 error\n")
    }
  }
}

import Foundation
import XCTest

@testable import Manifest

/// `user:` in every form compose accepts, from a group and from `defaults:`,
/// and each malformed value reported at its own node.
final class UserTests: XCTestCase {
  func user(_ value: String, driver: String = "docker") throws -> UserSpec? {
    let dir = try TempDir()
    let source = driver == "docker" ? "image: x" : "command: [x]"
    return try load("fixture: f\ndriver: \(driver)\ngroups:\n  a:\n    \(source)\n    user: \(value)\n", in: dir).groups[0].user
  }

  func testEveryForm() throws {
    XCTAssertEqual(try user("alice"), UserSpec(user: .name("alice")))
    XCTAssertEqual(try user("1000"), UserSpec(user: .number(1000)))
    XCTAssertEqual(try user("\"1000\""), UserSpec(user: .number(1000)), "quoted or not, a number is a uid")
    XCTAssertEqual(try user("1000:1000"), UserSpec(user: .number(1000), group: .number(1000)))
    XCTAssertEqual(try user("alice:staff"), UserSpec(user: .name("alice"), group: .name("staff")))
    XCTAssertEqual(try user("alice:50"), UserSpec(user: .name("alice"), group: .number(50)))
    XCTAssertEqual(try user("0:staff"), UserSpec(user: .number(0), group: .name("staff")))
    XCTAssertEqual(try user("Svc_1.x-y$"), UserSpec(user: .name("Svc_1.x-y$")))
    XCTAssertEqual(try user("4294967294"), UserSpec(user: .number(4_294_967_294)))
    XCTAssertEqual(try user("nobody", driver: "process"), UserSpec(user: .name("nobody")), "names are resolved at plan time, not here")
    XCTAssertEqual(try user("1000:1000")?.text, "1000:1000")
    XCTAssertEqual(try user("alice")?.text, "alice")
  }

  func testAbsentIsNil() throws {
    let dir = try TempDir()
    XCTAssertNil(try load("fixture: f\ngroups: {a: {image: x}}\n", in: dir).groups[0].user)
  }

  func testDefaultsAndTheGroupsOwnValue() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: f
      defaults: { image: x, user: "1000:1000" }
      groups:
        a: {}
        b: { user: alice }

      """, in: dir)
    XCTAssertEqual(m.groups[0].user, UserSpec(user: .number(1000), group: .number(1000)))
    XCTAssertEqual(m.groups[0].user?.location.line, 2, "where it was written: in defaults")
    XCTAssertEqual(m.groups[1].user, UserSpec(user: .name("alice")))
    XCTAssertNotEqual(m.groups[0], m.groups[1])
  }

  func testMalformedValuesAtTheirNode() throws {
    let dir = try TempDir()
    let forms = "a user name, a uid, or name:group / uid:gid such as alice or 1000:1000"
    let cases: [(String, String)] = [
      ("[alice]", "6:11: 'user' of group 'a' must be \(forms), not a list"),
      ("{name: alice}", "6:11: 'user' of group 'a' must be \(forms), not a mapping"),
      ("~", "6:11: 'user' of group 'a' must be \(forms), not null"),
      ("", "6:10: 'user' of group 'a' must be \(forms), not null"),
      ("\"\"", "6:11: 'user' of group 'a' must be \(forms), not ''"),
      ("\":\"", "6:11: 'user' of group 'a' must be \(forms), not ':'"),
      ("\"alice:\"", "6:11: 'user' of group 'a' must be \(forms), not 'alice:'"),
      ("\":1000\"", "6:11: 'user' of group 'a' must be \(forms), not ':1000'"),
      ("a:b:c", "6:11: 'user' of group 'a' must be \(forms), not 'a:b:c'"),
      ("4294967295", "6:11: uid 4294967295 in 'user' of group 'a' is too large (at most 4294967294)"),
      ("1:99999999999", "6:11: gid 99999999999 in 'user' of group 'a' is too large (at most 4294967294)"),
      (
        "\"bad name\"",
        "6:11: 'bad name' in 'user' of group 'a' is not a user name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
      ),
      (
        "1abc",
        "6:11: '1abc' in 'user' of group 'a' is not a user name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
      ),
      (
        "\"-1\"",
        "6:11: '-1' in 'user' of group 'a' is not a user name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
      ),
      (
        "alice:st/aff",
        "6:11: 'st/aff' in 'user' of group 'a' is not a group name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
      ),
      (
        String(repeating: "a", count: 33),
        "6:11: '\(String(repeating: "a", count: 33))' in 'user' of group 'a' is not a user name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
      ),
    ]
    for (value, expected) in cases {
      XCTAssertEqual(problems("fixture: f\ndriver: docker\ngroups:\n  a:\n    image: x\n    user: \(value)\n", in: dir), [expected], value)
    }
    // From defaults: reported once per group that takes it, at the defaults node.
    XCTAssertEqual(
      problems("fixture: f\ndefaults: {user: \"a:b:c\"}\ngroups:\n  a: {image: x}\n", in: dir),
      ["2:18: 'user' of group 'a' must be \(forms), not 'a:b:c'"])
  }

  func testRenderedLikeACompiler() throws {
    do {
      _ = try ManifestLoader.load(text: "fixture: f\ngroups:\n  a:\n    image: x\n    user: a:b:c\n", path: "m.yaml")
      XCTFail("expected an error")
    } catch {
      XCTAssertEqual(
        error.render(),
        "m.yaml:5:11: error: 'user' of group 'a' must be a user name, a uid, or name:group / uid:gid such as alice or 1000:1000, not 'a:b:c'\n    user: a:b:c\n          ^\n1 error\n"
      )
    }
  }
}

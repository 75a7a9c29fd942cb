import Foundation
import XCTest

@testable import Manifest

/// Hostile manifests (issue #7) that the malformed tables do not cover:
/// numbers that overflow, enormous strings, shell metacharacters kept
/// literally, an unreadable file. Each is an error with a location, or a
/// value kept exactly as written; never a trap.
final class HostileInputTests: XCTestCase {
  func errors(_ text: String) -> [String] {
    do {
      _ = try ManifestLoader.load(text: text, path: "/nonexistent/m.yaml")
      return []
    } catch {
      return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
  }

  /// Found by reasoning about the fuzzer's reach: `Int64(Double)` trapped on
  /// `99999999999999999999h`, and sizes wrapped around silently.
  func testOverflowingDurationsAndSizesAreErrorsNotTraps() {
    XCTAssertNil(Units.duration("99999999999999999999h"))
    XCTAssertNil(Units.duration("9223372036854775807s"))
    XCTAssertNil(Units.duration(String(repeating: "9000000000000000ms", count: 2000)), "a sum that overflows")
    XCTAssertEqual(Units.duration("1m30s"), .seconds(90))
    XCTAssertNil(Units.size("9999999999999g"))
    XCTAssertNil(Units.size("9223372036854775807k"))
    XCTAssertEqual(Units.size("16m"), 16 << 20)
    XCTAssertEqual(
      errors("fixture: f\ngroups:\n  a: {image: x, stop_timeout: 99999999999999999999h, memory: 9999999999999g}\n"),
      [
        "3:31: 'stop_timeout' of group 'a' must be a duration such as 500ms, 2s, 1m30s, not '99999999999999999999h'",
        "3:62: 'memory' of group 'a' must be a size such as 16m, 1g, 512k, not '9999999999999g'",
      ])
  }

  /// Long durations that parse still could overflow a health check's
  /// nanosecond budget downstream; the manifest caps them at 24h.
  func testDurationsLongerThanADayAreRefused() {
    XCTAssertEqual(
      errors("fixture: f\ngroups:\n  a: {image: x, healthcheck: {command: [x], interval: 25h, retries: 10000}}\n"),
      ["3:55: 'healthcheck.interval' must be at most 24h, not '25h'"])
    XCTAssertEqual(errors("fixture: f\ngroups:\n  a: {image: x, stop_timeout: 24h}\n"), [])
  }

  func testHugeNumbersAreErrorsWithTheirLocation() {
    XCTAssertEqual(
      errors("fixture: f\ngroups:\n  a: {image: x, count: 99999999999999999999999999}\n"),
      ["3:24: 'count' of group 'a' must be a whole number, not '99999999999999999999999999'"])
    XCTAssertEqual(
      errors("fixture: f\ngroups:\n  a: {image: x, cpus: 1e400}\n"),
      ["3:23: 'cpus' of group 'a' must be a number, not '1e400'"])
  }

  /// A megabyte in a value is kept whole; a megabyte-long unknown key is one
  /// error, found quickly (the "did you mean" search is not quadratic in it).
  func testEnormousStrings() throws {
    let big = String(repeating: "x", count: 1 << 20)
    let m = try ManifestLoader.load(text: "fixture: f\ngroups:\n  a: {image: x, env: {BIG: \(big)}}\n", path: "/nonexistent/m.yaml")
    XCTAssertEqual(m.groups[0].env.first?.value.count, 1 << 20)
    let start = Date()
    let got = errors("fixture: f\ngroups:\n  a: {image: x, \(big): 1}\n")
    XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    XCTAssertEqual(got.count, 1)
    // libyaml allows simple keys of at most 1024 characters: a syntax error, on line 3.
    XCTAssertTrue(got.first?.hasPrefix("3:") ?? false, "\(got.first?.prefix(80) ?? "none")")
    let key = String(repeating: "k", count: 1000)
    XCTAssertEqual(errors("fixture: f\ngroups:\n  a:\n    image: x\n    \(key): 1\n"), ["5:5: unknown key '\(key)' in group 'a'"])
  }

  /// Shell metacharacters, quotes and newlines are data: the decoder keeps
  /// them exactly as written in env, vars, command and root.
  func testShellMetacharactersAreKeptLiterally() throws {
    let m = try ManifestLoader.load(
      text: #"""
        fixture: f
        root: "fx $(touch /tmp/x) `id`; 'q\" \n"
        vars: { evil: "$(touch /tmp/y) `id` ; rm -rf / 'q' \"d\"\nline2" }
        groups:
          a:
            image: x
            command: ["/bin/sh", "-c", "echo $(id); `id`"]
            env: { E: "a'b\"c$(d)`e`;f\ng" }

        """#, path: "/nonexistent/m.yaml")
    XCTAssertEqual(m.root, "/nonexistent/fx $(touch /tmp/x) `id`; 'q\" \n")
    XCTAssertEqual(m.groups[0].env.first?.value, "a'b\"c$(d)`e`;f\ng")
    XCTAssertEqual(m.groups[0].command, ["/bin/sh", "-c", "echo $(id); `id`"])
    guard case .string(let s)? = m.vars.first?.value else { return XCTFail("vars.evil: \(String(describing: m.vars.first))") }
    XCTAssertEqual(s, "$(touch /tmp/y) `id` ; rm -rf / 'q' \"d\"\nline2")
  }

  /// Root can read any file, so the unreadable file is `/proc/self/mem`
  /// (read at offset 0 fails with EIO); other users get a mode 000 file.
  func testUnreadableManifestIsOneClearError() throws {
    var path = "/proc/self/mem"
    if getuid() != 0 {
      path = NSTemporaryDirectory() + "cthulhu-unreadable-\(UUID().uuidString).yaml"
      _ = FileManager.default.createFile(atPath: path, contents: Data("fixture: f\n".utf8), attributes: [.posixPermissions: 0])
    }
    defer { if path != "/proc/self/mem" { try? FileManager.default.removeItem(atPath: path) } }
    do {
      _ = try ManifestLoader.load(path: path)
      XCTFail("an unreadable manifest must be refused")
    } catch {
      XCTAssertEqual(error.diagnostics.map(\.message), ["cannot read the manifest (permission denied?)"])
      XCTAssertEqual(error.diagnostics.first?.location.file, path)
    }
  }

  /// The bytes entry point (the fuzzer's) reports invalid UTF-8 at the byte.
  func testInvalidUTF8ThroughTheBytesEntryPoint() {
    let bad: [UInt8] = Array("fixture: f\ngroups: {a: {image: ".utf8) + [0xFF] + Array("}}\n".utf8)
    do {
      _ = try ManifestLoader.load(bytes: bad, path: "/nonexistent/m.yaml")
      XCTFail("invalid UTF-8 must be refused")
    } catch {
      XCTAssertEqual(error.diagnostics.count, 1)
      XCTAssertEqual(error.diagnostics.first?.location.line, 2)
      XCTAssertTrue(error.diagnostics.first?.message.contains("UTF-8") ?? false)
    }
  }
}

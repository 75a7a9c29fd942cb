import Foundation
import TestSupport
import XCTest

/// Issue 17: on a terminal, `apply` and `destroy` of many instances keep one
/// line that updates in place (done/total, elapsed) instead of a line per
/// step; off a terminal, and with `--progress plain`, a line per step stays.
/// The terminal is a real pseudo-terminal: util-linux `script` runs cthulhu
/// on one and copies what it wrote.
final class ProgressTests: XCTestCase {
  var dir = ""
  var fixture = ""

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.require(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "util-linux `script` is missing")
    fixture = Host.uniqueName("progress")
    dir = try Host.tempDir(fixture)
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        count: 300
        command: ["/bin/busybox", "sleep", "3600"]

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    _ = try? Host.run(Host.cthulhuBinary, ["destroy", "--progress", "none"], in: dir)
    try? FileManager.default.removeItem(atPath: dir)
  }

  /// Runs cthulhu on a pseudo-terminal; what it printed there, `\r\n` as `\n`.
  func onTerminal(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, text: String) {
    let command = ([Host.cthulhuBinary] + args).map { "'\($0)'" }.joined(separator: " ")
    let r = try Host.run("/usr/bin/script", ["-qfec", command, "/dev/null"], in: dir, env: env)
    return (r.status, r.stdout.replacingOccurrences(of: "\r\n", with: "\n"))
  }

  func testApplyAndDestroyOf300OnATerminalShowOneUpdatingLine() throws {
    let apply = try onTerminal(["apply"], env: ["NO_COLOR": "1"])
    XCTAssertEqual(apply.status, 0, apply.text)
    XCTAssertTrue(apply.text.contains("Apply complete"), apply.text)
    // No line per step: the plan, one progress line redrawn in place, the outcome.
    XCTAssertFalse(apply.text.contains("i001: create"), "a line per step on a terminal")
    let redraws = apply.text.components(separatedBy: "\r\u{1B}[2Kapply  ")
    XCTAssertGreaterThan(redraws.count, 2, "the line was never redrawn")
    XCTAssertTrue(redraws.last!.hasPrefix("301/301 done"), "last figures: \(redraws.last!.prefix(60))")
    let beforeOutcome = apply.text.components(separatedBy: "Apply complete")[0]
    let progress = beforeOutcome.components(separatedBy: "\n").filter { $0.contains("\r") }
    XCTAssertEqual(progress.count, 1, "the progress is one line on the terminal")
    XCTAssertFalse(apply.text.contains("\u{1B}[31m"), "a colour with NO_COLOR set")

    let destroy = try onTerminal(["destroy"])
    XCTAssertEqual(destroy.status, 0, destroy.text)
    XCTAssertTrue(destroy.text.contains("\r\u{1B}[2Kdestroy  300/300 removed"), destroy.text)
    XCTAssertTrue(destroy.text.contains("Destroyed fixture '\(fixture)': 300 instance(s)"), destroy.text)
    XCTAssertEqual(Host.processes(fixture: fixture), [])
  }

  func testOffATerminalAndWithPlainEveryStepHasItsLine() throws {
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        count: 3
        command: ["/bin/busybox", "sleep", "3600"]

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let piped = try Host.run(Host.cthulhuBinary, ["apply"], in: dir)
    XCTAssertEqual(piped.status, 0, piped.stderr)
    XCTAssertTrue(piped.stdout.contains("instance:i003: create done"), piped.stdout)
    XCTAssertFalse(piped.stdout.contains("\u{1B}["), "terminal codes in a pipe")

    XCTAssertEqual(try Host.run(Host.cthulhuBinary, ["destroy"], in: dir).status, 0)
    let plain = try onTerminal(["apply", "--progress", "plain"])
    XCTAssertEqual(plain.status, 0, plain.text)
    XCTAssertTrue(plain.text.contains("instance:i002: create done"), plain.text)
    XCTAssertFalse(plain.text.contains("\r\u{1B}[2K"), plain.text)
  }
}

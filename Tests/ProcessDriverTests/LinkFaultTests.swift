import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `delay` and `loss` on links (`--between A --and B`) on the process
/// driver's namespaces mode, through the built binary: curl from one
/// instance to another's busybox httpd. On this kernel (no netem) the
/// delay is NFQUEUE per link and the instance's `cthulhu _delay`.
final class LinkFaultTests: FixtureTestCase {
  let curl = "/usr/bin/curl"

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.requireRoot()
    try Host.require(FileManager.default.isExecutableFile(atPath: curl), "curl is not installed")
    try makeFolder("lnk")
    try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
    try "ok\n".write(toFile: dir + "/www/ping", atomically: true, encoding: .utf8)
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: namespaces }
    groups:
      zone-a:
        count: 2
        command: ["\(Host.busybox)", "httpd", "-f", "-p", "8080", "-h", "\(dir)/www"]
        stop_timeout: 1s
      zone-b:
        count: 2
        command: ["\(Host.busybox)", "httpd", "-f", "-p", "8080", "-h", "\(dir)/www"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
  }

  /// Seconds one HTTP exchange from `from` to `to` takes (curl's own clock), or nil if it failed.
  func exchange(_ from: String, _ to: String) throws -> Double? {
    let r = try cthulhu(
      "exec", "--fixture", root, from, "--", curl, "-s", "-o", "/dev/null", "--max-time", "3", "-w", "%{time_total}",
      "http://\(try ip(to)):8080/ping")
    return r.status == 0 ? Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
  }

  func time(_ from: String, _ to: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
    try XCTUnwrap(try exchange(from, to), "\(from) → \(to) failed", file: file, line: line)
  }

  func rules(_ name: String) throws -> String { try cthulhu("exec", "--fixture", root, name, "--", "iptables-save").stdout }

  func testALinkDelayHoldsTheLinkOnlyAndALatencyMatrixHoldsEachLinkAtItsOwnFigure() async throws {
    // Groups are the sets: zone-a is i001,i002; zone-b is i003,i004.
    let made = try mustSucceed("delay", "100ms", "--between", "i001", "--and", "zone-b")
    XCTAssertEqual(made, "f1: delay 100ms {i001} <-> {i003,i004}\n")
    // A second link at another figure, at the same time: a latency matrix.
    try mustSucceed("delay", "30ms", "--between", "i002", "--and", "i004")
    // i001 → i003 crosses the link both ways: at least the delay (a TCP exchange crosses it four times).
    let slow = try time("i001", "i003")
    XCTAssertGreaterThanOrEqual(slow, 0.1, "i001 → i003 over a 100 ms link")
    XCTAssertGreaterThanOrEqual(try time("i004", "i001"), 0.1, "the other direction is delayed too")
    // Within a zone, and across the other link, it stays fast or at its own figure.
    XCTAssertLessThan(try time("i001", "i002"), 0.1, "i001 → i002 is not on the link")
    XCTAssertLessThan(try time("i003", "i004"), 0.1, "i003 → i004 is not on the link")
    let other = try time("i002", "i004")
    XCTAssertGreaterThanOrEqual(other, 0.03, "i002 → i004 over a 30 ms link")
    XCTAssertLessThan(other, slow, "the 30 ms link is faster than the 100 ms one")
    XCTAssertLessThan(try time("i002", "i003"), 0.1, "i002 → i003 is on neither link")
    // The rules: i004 holds what comes from i001 and from i002, each on its link's queue.
    let text = try rules("i004")
    XCTAssertTrue(text.contains("-s \(try ip("i001"))/32 -j NFQUEUE --queue-num 5114"), text)
    XCTAssertTrue(text.contains("-s \(try ip("i002"))/32 -j NFQUEUE --queue-num 5114"), text)
    XCTAssertFalse(text.contains("! -i lo -j NFQUEUE"), "no instance-wide delay: \(text)")
    let listed = try mustSucceed("faults")
    XCTAssertTrue(listed.contains("delay 100ms {i001} <-> {i003,i004}"), listed)
    XCTAssertTrue(listed.contains("delay 30ms {i002} <-> {i004}"), listed)
    // heal lifts every link; the delayers go with them.
    try mustSucceed("heal")
    XCTAssertLessThan(try time("i001", "i003"), 0.1, "after heal")
    XCTAssertFalse(try rules("i004").contains("CTHULHU"))
    XCTAssertNil(try FaultBook.load(root: root).delayers)
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"action\":\"delay f1\""), events)
    XCTAssertTrue(events.contains("delay 100ms {i001} <-> {i003,i004}"), events)
  }

  func testALinkLossDropsOnlyTheLinkAndHealOfOneEndLiftsIt() async throws {
    try mustSucceed("loss", "100", "--between", "zone-a", "--and", "i003")
    XCTAssertNil(try exchange("i001", "i003"), "loss 100% on the link let an exchange through")
    XCTAssertNil(try exchange("i003", "i002"), "nor the other way")
    XCTAssertNotNil(try exchange("i001", "i004"), "i004 is not on the link")
    XCTAssertNotNil(try exchange("i001", "i002"), "within zone-a")
    // An instance delay and a link delay on the same instance: the link's packets wait both.
    try mustSucceed("delay", "50ms", "i004")
    try mustSucceed("delay", "100ms", "--between", "i001", "--and", "i004")
    let both = try time("i001", "i004")
    XCTAssertGreaterThanOrEqual(both, 0.3, "two crossings into i004 at 150 ms, two into i001 at 100 ms")
    let own = try time("i002", "i004")
    XCTAssertGreaterThanOrEqual(own, 0.1, "i004's own delay")
    XCTAssertLessThan(own, both)
    // Heal one end: the loss link loses its only member on one side and is lifted; the rest stays.
    let healed = try mustSucceed("heal", "i003")
    XCTAssertTrue(healed.contains("lifted f1"), healed)
    XCTAssertNotNil(try exchange("i001", "i003"))
    XCTAssertEqual(try FaultBook.load(root: root).faults.map(\.id), ["f2", "f3"])
    try mustSucceed("heal")
  }

  func testBadLinksAreRefusedAndChangeNothing() throws {
    let overlap = try cthulhu("delay", "10ms", "--between", "zone-a", "--and", "i001,i003")
    XCTAssertNotEqual(overlap.status, 0)
    XCTAssertTrue(overlap.stderr.contains("i001 is on both sides of the link"), overlap.stderr)
    let half = try cthulhu("delay", "10ms", "--between", "i001")
    XCTAssertNotEqual(half.status, 0)
    XCTAssertTrue(half.stderr.contains("--between SET --and SET"), half.stderr)
    let both = try cthulhu("loss", "5", "i002", "--between", "i001", "--and", "i003")
    XCTAssertNotEqual(both.status, 0)
    let unknown = try cthulhu("delay", "10ms", "--between", "i001", "--and", "i009")
    XCTAssertNotEqual(unknown.status, 0)
    XCTAssertTrue(unknown.stderr.contains("i009"), unknown.stderr)
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
  }
}

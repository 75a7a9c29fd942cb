import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// `delay --between` and `loss --between` on containers (the host path:
/// on this kernel, without netem, NFQUEUE per link and a delayer per
/// container), timed from inside them with busybox's `time wget`.
final class DockerLinkFaultTests: XCTestCase {
  var e: EngineFixture!
  var root: String { e.root }

  override func setUp() async throws {
    try Harness.require(getuid() == 0, "network faults need root")
    e = try await EngineFixture.make(tag: "links", prefix: "lk")
    try e.writeManifest(
      """
      fixture: \(e.fixture)
      groups:
        node:
          image: cthulhu-test:latest
          count: 3
          command: ["/bin/sh", "-c", "mkdir -p /tmp/www && echo ok > /tmp/www/ping && exec httpd -f -p 8080 -h /tmp/www"]
          stop_timeout: 1s

      """)
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  override func tearDown() async throws { try await e?.tearDown() }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  /// Seconds one HTTP exchange from `from` to `to` takes (busybox `time`), or nil if it failed.
  func exchange(_ from: String, _ to: String) throws -> Double? {
    let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + to)
    let r = try cthulhu("exec", from, "--", "sh", "-c", "time timeout 3 wget -q -O- http://\(ip):8080/ping 2>&1")
    guard r.status == 0, (r.stdout + r.stderr).contains("ok\n") else { return nil }
    // "real\t0m 0.40s"
    let all = r.stdout + r.stderr
    guard let line = all.split(separator: "\n").first(where: { $0.hasPrefix("real") }) else { return nil }
    let parts = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
    guard parts.count >= 3, let m = Double(parts[1].dropLast()), let s = Double(parts[2].dropLast()) else { return nil }
    return m * 60 + s
  }

  func testALinkDelayHoldsOnlyTheLinkAndALinkLossDropsOnlyIt() async throws {
    let made = try cthulhu("delay", "100ms", "--between", "i001", "--and", "i003")
    XCTAssertEqual(made.status, 0, made.stderr)
    XCTAssertEqual(made.stdout, "f1: delay 100ms {i001} <-> {i003}\n")
    let lossy = try cthulhu("loss", "100", "--between", "i002", "--and", "i003")
    XCTAssertEqual(lossy.status, 0, lossy.stderr)
    let slow = try XCTUnwrap(try exchange("i001", "i003"), "i001 → i003 failed")
    XCTAssertGreaterThanOrEqual(slow, 0.1, "over a 100 ms link")
    XCTAssertLessThan(try XCTUnwrap(try exchange("i001", "i002")), 0.1, "i001 → i002 is not on the link")
    XCTAssertNil(try exchange("i002", "i003"), "loss 100% on the i002 ↔ i003 link")
    let heal = try cthulhu("heal")
    XCTAssertEqual(heal.status, 0, heal.stderr)
    XCTAssertLessThan(try XCTUnwrap(try exchange("i001", "i003")), 0.1, "after heal")
    XCTAssertNotNil(try exchange("i002", "i003"), "after heal")
  }
}

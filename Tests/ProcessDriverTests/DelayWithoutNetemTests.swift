import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `delay` on the process driver's namespaces mode, through the built binary,
/// measured with curl from one instance to another's busybox httpd, always
/// through the queue path (`--path queue`: NFQUEUE and the `cthulhu _delay`
/// process), which a kernel without sch_netem takes by itself; so it is
/// tested on every kernel, netem or not.
final class DelayWithoutNetemTests: FixtureTestCase {
  let curl = "/usr/bin/curl"

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.requireRoot()
    try Host.require(FileManager.default.isExecutableFile(atPath: curl), "curl is not installed")
    try makeFolder("dly")
    try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
    try "ok\n".write(toFile: dir + "/www/ping", atomically: true, encoding: .utf8)
    try writeManifest(count: 2)
    try mustSucceed("apply")
  }

  func writeManifest(count: Int) throws {
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: namespaces }
    groups:
      node:
        count: \(count)
        command: ["\(Host.busybox)", "httpd", "-f", "-p", "8080", "-h", "\(dir)/www"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  /// Seconds one HTTP exchange from i001 to i002 takes (curl's own clock), or nil if it failed.
  func exchange() throws -> Double? {
    let r = try cthulhu(
      "exec", "--fixture", root, "i001", "--", curl, "-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{time_total}",
      "http://\(try ip("i002")):8080/ping")
    return r.status == 0 ? Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
  }

  func exchanges(_ n: Int) throws -> [Double] {
    try (0..<n).map { _ in try XCTUnwrap(try exchange(), "an exchange failed") }
  }

  /// cthulhu's rules in i002's namespace.
  func rules() throws -> String { try cthulhu("exec", "--fixture", root, "i002", "--", "iptables-save").stdout }

  func delayer() throws -> Int32? { try FaultBook.load(root: root).delayers?["i002"] }

  /// Alive and not a zombie.
  func running(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !["Z", "X"].contains(stat[stat.index(close, offsetBy: 2)...].prefix(1))
  }

  func testDelayHoldsEveryExchangeAndHealBringsItBack() async throws {
    let free = try exchanges(3)
    XCTAssertLessThan(free.median, 0.2, "before any fault: \(free)")
    try mustSucceed("delay", "--path", "queue", "300ms", "i002")
    let delayed = try exchanges(5)
    // The answer (and the SYN-ACK before it) leave i002 late: at least one delay each exchange.
    XCTAssertGreaterThanOrEqual(delayed.min()!, 0.28, "with delay 300ms: \(delayed)")
    XCTAssertLessThan(delayed.max()!, 2, "with delay 300ms: \(delayed)")
    let text = try rules()
    XCTAssertTrue(text.contains("NFQUEUE --queue-num 51143 --queue-bypass"), text)
    let pid = try XCTUnwrap(try delayer(), "no delayer recorded")
    XCTAssertTrue(running(pid))
    XCTAssertEqual(try FaultBook.load(root: root).faults.first?.delayPath, .queue)
    try mustSucceed("heal")
    let healed = try exchanges(3)
    XCTAssertLessThan(healed.median, 0.2, "after heal: \(healed)")
    let left = try rules()
    XCTAssertFalse(left.contains("CTHULHU"), left)
    XCTAssertNil(try delayer())
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
  }

  func testJitterVariesTheDelay() async throws {
    try mustSucceed("delay", "--path", "queue", "300ms", "i002")
    let steady = try exchanges(6)
    try mustSucceed("delay", "--path", "queue", "300ms", "--jitter", "150ms", "i002")
    let jittery = try exchanges(10)
    // Without jitter every exchange waits the same: what spread there is
    // comes from the machine, and is far below what σ = 150 ms gives (no
    // bound in seconds, which a loaded runner would break).
    XCTAssertGreaterThanOrEqual(steady.min()!, 0.28, "without jitter: \(steady)")
    XCTAssertLessThan(steady.middleSpread, (jittery.max()! - jittery.min()!) / 2, "without jitter: \(steady); with: \(jittery)")
    // σ = 150 ms over two or more packets per exchange: ten exchanges within 40 ms of each other would mean no jitter.
    XCTAssertGreaterThan(jittery.max()! - jittery.min()!, 0.04, "with jitter 150ms: \(jittery)")
    // Uniform: every packet between 150 and 450 ms, so an exchange (two holds or more) never under 300 ms.
    try mustSucceed("delay", "--path", "queue", "300ms", "--jitter", "150ms", "--distribution", "uniform", "i002")
    XCTAssertEqual(try FaultBook.load(root: root).faults.first?.jitterDistribution, .uniform)
    let uniform = try exchanges(10)
    XCTAssertGreaterThanOrEqual(uniform.min()!, 0.28, "uniform 300ms ± 150ms: \(uniform)")
    XCTAssertGreaterThan(uniform.max()! - uniform.min()!, 0.04, "uniform 300ms ± 150ms: \(uniform)")
    try mustSucceed("heal")
  }

  func testAKilledDelayerNeverHoldsPacketsAndDestroyStopsIt() async throws {
    try mustSucceed("delay", "--path", "queue", "300ms", "i002")
    let pid = try XCTUnwrap(try delayer())
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(try exchange()), 0.28)
    kill(pid, SIGKILL)
    try await Host.eventually("the delayer is gone", within: 5) { !self.running(pid) }
    // --queue-bypass: with nothing bound to the queue, packets pass undelayed.
    let after = try exchanges(3)
    XCTAssertLessThan(after.median, 0.2, "after the delayer was killed: \(after)")
    // Heal removes the rule and forgets the dead delayer.
    try mustSucceed("heal")
    XCTAssertFalse(try rules().contains("NFQUEUE"))
    XCTAssertNil(try delayer())
    // A delayer still running at destroy is stopped by it.
    try mustSucceed("delay", "--path", "queue", "100ms", "i002")
    let second = try XCTUnwrap(try delayer())
    XCTAssertTrue(running(second))
    try mustSucceed("destroy")
    try await Host.eventually("destroy stopped the delayer", within: 5) { !self.running(second) }
  }

  func testDelayCombinesWithLossAndRate() async throws {
    try mustSucceed("rate", "1mbit", "i002")
    try mustSucceed("delay", "--path", "queue", "300ms", "i002")
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(try exchange()), 0.28)
    let shown = try cthulhu("exec", "--fixture", root, "i002", "--", "tc", "qdisc", "show").stdout
    XCTAssertTrue(shown.contains("c7c7:"), shown)
    try mustSucceed("loss", "100%", "i002")
    XCTAssertNil(try exchange(), "loss 100% on top of the delay let an exchange through")
    try mustSucceed("heal", "i002")
    let healed = try exchanges(2)
    XCTAssertLessThan(healed.median, 0.2, "after heal: \(healed)")
    let left = try cthulhu("exec", "--fixture", root, "i002", "--", "tc", "qdisc", "show").stdout
    XCTAssertFalse(left.contains("c7c7:"), left)
  }

  func testADelayMadeWhileStoppedTakesHoldWhenItStarts() async throws {
    try mustSucceed("stop", "i002")
    try mustSucceed("delay", "--path", "queue", "300ms", "i002")
    // A process instance's namespace outlives its stop: the delay is probed and set in it at once.
    XCTAssertNotNil(try FaultBook.load(root: root).faults.first?.delayPath, "probed in the stopped instance's namespace")
    try mustSucceed("start", "i002")
    XCTAssertNotNil(try FaultBook.load(root: root).faults.first?.delayPath)
    try await Host.eventually("i002 answers", within: 10) { try self.exchange() != nil }
    let delayed = try exchanges(3)
    XCTAssertGreaterThanOrEqual(delayed.min()!, 0.28, "after start: \(delayed)")
    try mustSucceed("heal")
    XCTAssertLessThan(try exchanges(3).median, 0.2)
  }

  func testADelayerEndsWithItsInstancesNamespace() async throws {
    try mustSucceed("delay", "--path", "queue", "100ms", "i002")
    let pid = try XCTUnwrap(try delayer())
    XCTAssertTrue(running(pid))
    // Scaled away by apply: its namespace goes, and the delayer with it.
    try writeManifest(count: 1)
    try mustSucceed("apply")
    try await Host.eventually("the delayer of a removed instance ends", within: 10) { !self.running(pid) }
  }
}

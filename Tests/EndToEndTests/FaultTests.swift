import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// Network faults on a real engine, driven through the CLI as a user would,
/// checked from inside the containers: who can still reach whom.
final class FaultTests: XCTestCase {
  var e: EngineFixture!

  override func setUp() async throws {
    try Harness.require(getuid() == 0, "network faults need root")
    e = try await EngineFixture.make(tag: "faults", prefix: "ft")
    try e.writeManifest(Self.httpNodes(e.fixture, count: 4))
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  override func tearDown() async throws { try await e?.tearDown() }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  /// `count` nodes serving a 256 KiB blob and a small file over HTTP.
  static func httpNodes(_ fixture: String, count: Int, header: String = "") -> String {
    """
    fixture: \(fixture)
    \(header)groups:
      node:
        image: cthulhu-test:latest
        count: \(count)
        command: ["/bin/sh", "-c", "mkdir -p /tmp/www && head -c 262144 /dev/zero > /tmp/www/blob && echo ok > /tmp/www/ping && exec httpd -f -p 8080 -h /tmp/www"]
        stop_timeout: 1s

    """
  }

  /// `client` fetches the 256 KiB blob from `server`: seconds taken, bytes got.
  static func fetchBlob(_ e: EngineFixture, client: String, server: String) async throws -> (Double, Int) {
    let ip = try XCTUnwrap(try FixtureState.require(root: e.root).instance(named: server)?.ip)
    let id = try await e.container(client)
    let fetch = ["sh", "-c", "printf 'GET /blob HTTP/1.0\\r\\n\\r\\n' | nc -w 10 \(ip) 8080 | wc -c"]
    let t = ContinuousClock.now
    let r = try await e.driver.exec(id: id, command: fetch)
    let d = ContinuousClock.now - t
    return (
      Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    )
  }

  func state() throws -> FixtureState { try FixtureState.require(root: e.root) }

  /// Whether `from` gets an HTTP answer from `to` within a second.
  func reaches(_ from: String, _ to: String) async throws -> Bool {
    try await Self.reaches(e, from, to)
  }

  static func reaches(_ e: EngineFixture, _ from: String, _ to: String) async throws -> Bool {
    let state = try FixtureState.require(root: e.root)
    let live = try await e.driver.containers(fixture: e.fixture)
    let ip = try XCTUnwrap(state.instance(named: to)?.ip)
    let id = try XCTUnwrap(live.first { $0.labels[Labels.instance] == from }?.id, "no container for \(from)")
    let r = try await e.driver.exec(id: id, command: ["sh", "-c", "printf 'GET /ping HTTP/1.0\\r\\n\\r\\n' | nc -w 1 \(ip) 8080"])
    return r.stdout.contains("200 OK")
  }

  /// Reachability of every ordered pair, checked in parallel: "i001>i002" → reached.
  func matrix() async throws -> [String: Bool] {
    let names = try state().instances.map(\.name)
    let e = self.e!
    return try await withThrowingTaskGroup(of: (String, Bool).self) { group in
      for a in names {
        for b in names where a != b {
          group.addTask { ("\(a)>\(b)", try await Self.reaches(e, a, b)) }
        }
      }
      var out: [String: Bool] = [:]
      for try await (k, v) in group { out[k] = v }
      return out
    }
  }

  /// Every pair reaches except the `blocked` ones.
  func assertMatrix(blocked: Set<String>, file: StaticString = #filePath, line: UInt = #line) async throws {
    let m = try await matrix()
    for (pair, ok) in m.sorted(by: { $0.key < $1.key }) {
      XCTAssertEqual(ok, !blocked.contains(pair), "\(pair) should be \(blocked.contains(pair) ? "blocked" : "open")", file: file, line: line)
    }
  }

  /// Waits (with a deadline) until every node serves, so open pairs are really open.
  func waitUntilServing() async throws {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if try await matrix().values.allSatisfy({ $0 }) { return }
      try await Task.sleep(for: .milliseconds(200))
    }
    XCTFail("the nodes never all answered each other")
  }

  /// cthulhu's rules inside an instance's namespace (iptables-save and tc).
  func rules(_ name: String) async throws -> String {
    let id = try await e.container(name)
    let namespace = try await e.driver.networkNamespace(id: id)
    let ns = try XCTUnwrap(namespace)
    let ipt = try Harness.run("/usr/bin/nsenter", ["--net=\(ns)", "--", "iptables-save"])
    let tc = try Harness.run("/usr/bin/nsenter", ["--net=\(ns)", "--", "tc", "qdisc", "show"])
    return ipt.stdout + tc.stdout
  }

  func faultBook() throws -> FaultBook { try FaultBook.load(root: e.root) }

  func testPartitionCutsBothWaysBetweenSetsAndNowhereElseThenHeals() async throws {
    try await waitUntilServing()
    var r = try cthulhu("partition", "i001", "i002,i003")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("f1: partition {i001} | {i002,i003}"), r.stdout)
    try await assertMatrix(blocked: ["i001>i002", "i002>i001", "i001>i003", "i003>i001"])
    r = try cthulhu("status")
    XCTAssertTrue(r.stdout.contains("FAULTS"), r.stdout)
    XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.contains(" f1 ") }.count, 3, r.stdout)
    r = try cthulhu("heal")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertMatrix(blocked: [])
    for n in ["i001", "i002", "i003"] {
      let text = try await rules(n)
      XCTAssertFalse(text.contains("CTHULHU"), "\(n) keeps rules after heal:\n\(text)")
    }
    XCTAssertTrue(try faultBook().faults.isEmpty)
  }

  func testShapesIsolateAndLoss() async throws {
    try await waitUntilServing()
    // --bridge over four: {i001,i002} | {i004}, i003 in the middle.
    var r = try cthulhu("partition", "--bridge")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertMatrix(blocked: ["i001>i004", "i004>i001", "i002>i004", "i004>i002"])
    XCTAssertEqual(try cthulhu("heal").status, 0)

    r = try cthulhu("isolate", "i004")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertMatrix(blocked: ["i001>i004", "i002>i004", "i003>i004", "i004>i001", "i004>i002", "i004>i003"])
    // Healing another instance leaves i004 isolated.
    XCTAssertEqual(try cthulhu("heal", "i001").status, 0)
    let i004blocked = try await reaches("i001", "i004")
    XCTAssertFalse(i004blocked)
    XCTAssertEqual(try cthulhu("heal", "i004").status, 0)

    r = try cthulhu("loss", "100%", "i002")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertMatrix(blocked: ["i001>i002", "i003>i002", "i004>i002", "i002>i001", "i002>i003", "i002>i004"])
    r = try cthulhu("loss", "0", "i003")
    XCTAssertEqual(r.status, 0, r.stderr)
    let at0 = try await reaches("i001", "i003")
    XCTAssertTrue(at0, "loss 0% dropped traffic")
    XCTAssertEqual(try cthulhu("heal", "i002").status, 0)
    r = try cthulhu("loss", "30", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    let text = try await rules("i001")
    // The kernel keeps the probability in fixed point: 0.3 reads back as 0.29999999981.
    let p = text.split(separator: "\n").first { $0.contains("statistic") }.flatMap {
      $0.split(separator: " ").drop { $0 != "--probability" }.dropFirst().first
    }.flatMap { Double($0) }
    XCTAssertEqual(p ?? 0, 0.3, accuracy: 0.001, text)
    XCTAssertEqual(try cthulhu("heal").status, 0)
  }

  func testRateLimitsThroughputMeasurably() async throws {
    try await waitUntilServing()
    func timed() async throws -> (Double, Int) { try await FaultTests.fetchBlob(e, client: "i002", server: "i001") }
    let (free, freeBytes) = try await timed()
    XCTAssertGreaterThan(freeBytes, 262_144)
    let r = try cthulhu("rate", "1mbit", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    let q1 = try await rules("i001")
    XCTAssertTrue(q1.contains("tbf c7c7:"))
    let (shaped, shapedBytes) = try await timed()
    XCTAssertEqual(shapedBytes, freeBytes, "the whole blob arrives, only slower")
    // 2.1 Mbit at 1 Mbit/s cannot take less than about two seconds.
    XCTAssertGreaterThan(shaped, 1.5, "256 KiB at 1mbit took \(shaped)s")
    XCTAssertGreaterThan(shaped, free * 3, "shaped \(shaped)s vs free \(free)s")
    XCTAssertEqual(try cthulhu("heal").status, 0)
    let q2 = try await rules("i001")
    XCTAssertFalse(q2.contains("c7c7"))
  }

  /// Seconds one HTTP exchange from i002 to i001 takes: curl (the host's) in
  /// i002's network namespace, on its own clock; nil when it failed.
  func exchange() async throws -> Double? {
    let ip = try XCTUnwrap(try state().instance(named: "i001")?.ip)
    let id = try await e.container("i002")
    let namespace = try await e.driver.networkNamespace(id: id)
    let ns = try XCTUnwrap(namespace)
    let r = try Harness.run(
      "/usr/bin/nsenter",
      ["--net=\(ns)", "--", "/usr/bin/curl", "-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{time_total}", "http://\(ip):8080/ping"])
    return r.status == 0 ? Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) : nil
  }

  func exchanges(_ n: Int) async throws -> [Double] {
    var out: [Double] = []
    for _ in 0..<n {
      let t = try await exchange()
      out.append(try XCTUnwrap(t, "an exchange failed"))
    }
    return out
  }

  /// Alive and not a zombie.
  func running(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !["Z", "X"].contains(stat[stat.index(close, offsetBy: 2)...].prefix(1))
  }

  /// With netem where the kernel has it, else NFQUEUE and a `cthulhu _delay`
  /// process in the container's namespace: the same timings either way.
  func testDelayAndJitterOnAnyKernelThenHeal() async throws {
    try Harness.require(FileManager.default.isExecutableFile(atPath: "/usr/bin/curl"), "curl is not installed")
    try await waitUntilServing()
    let free = try await exchanges(3)
    XCTAssertLessThan(free.median, 0.2, "before any fault: \(free)")
    var r = try cthulhu("delay", "300ms", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    let delayed = try await exchanges(5)
    XCTAssertGreaterThanOrEqual(delayed.min()!, 0.28, "with delay 300ms: \(delayed)")
    XCTAssertLessThan(delayed.middleSpread, 0.05, "without jitter: \(delayed)")
    let text = try await rules("i001")
    let fault = try XCTUnwrap(try faultBook().faults.first)
    switch try XCTUnwrap(fault.delayPath) {
    case .netem: XCTAssertTrue(text.contains("netem c7c7:"), text)
    case .queue:
      XCTAssertTrue(text.contains("NFQUEUE --queue-num 51143 --queue-bypass"), text)
      XCTAssertFalse(text.contains("netem"), text)
      XCTAssertTrue(running(try XCTUnwrap(try faultBook().delayers?["i001"])))
    }
    r = try cthulhu("delay", "300ms", "--jitter", "150ms", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    let jittery = try await exchanges(10)
    XCTAssertGreaterThanOrEqual(jittery.max()!, 0.28, "with jitter: \(jittery)")
    XCTAssertGreaterThan(jittery.max()! - jittery.min()!, 0.04, "with jitter 150ms: \(jittery)")
    if fault.delayPath == .queue {
      // A killed delayer holds nothing: --queue-bypass lets packets through at once.
      let pid = try XCTUnwrap(try faultBook().delayers?["i001"])
      kill(pid, SIGKILL)
      let deadline = Date().addingTimeInterval(5)
      while running(pid) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
      XCTAssertFalse(running(pid))
      let bypassed = try await exchanges(3)
      XCTAssertLessThan(bypassed.median, 0.2, "after the delayer was killed: \(bypassed)")
    }
    XCTAssertEqual(try cthulhu("heal").status, 0)
    let healed = try await exchanges(3)
    XCTAssertLessThan(healed.median, 0.2, "after heal: \(healed)")
    let left = try await rules("i001")
    XCTAssertFalse(left.contains("CTHULHU") || left.contains("c7c7"), left)
    XCTAssertNil(try faultBook().delayers)
  }

  func testADelayerIsStoppedByDestroyAndRestartedWithItsContainer() async throws {
    try await waitUntilServing()
    XCTAssertEqual(try cthulhu("delay", "200ms", "i003").status, 0)
    guard let first = try faultBook().delayers?["i003"] else {
      XCTAssertEqual(try faultBook().faults.first?.delayPath, .netem, "a queued delay without a delayer")
      return
    }
    // A restarted container has a new namespace: a new delayer in it, the old one gone.
    XCTAssertEqual(try cthulhu("restart", "i003").status, 0)
    let second = try XCTUnwrap(try faultBook().delayers?["i003"])
    XCTAssertNotEqual(first, second)
    let deadline = Date().addingTimeInterval(5)
    while running(first) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
    XCTAssertFalse(running(first), "the delayer of the old namespace outlived the restart")
    XCTAssertTrue(running(second))
    XCTAssertEqual(try cthulhu("destroy").status, 0)
    let until = Date().addingTimeInterval(5)
    while running(second) && Date() < until { try await Task.sleep(for: .milliseconds(20)) }
    XCTAssertFalse(running(second), "the delayer outlived destroy")
  }

  func testFaultsSurviveRestartStopStartAndRecreate() async throws {
    try await waitUntilServing()
    XCTAssertEqual(try cthulhu("isolate", "i002").status, 0)
    XCTAssertEqual(try cthulhu("restart", "i002").status, 0)
    var ok = try await reaches("i001", "i002")
    XCTAssertFalse(ok, "isolation lost by a restart")
    XCTAssertEqual(try Harness.run(e.root + "/i002/control", ["stop"]).status, 0)
    XCTAssertEqual(try Harness.run(e.root + "/i002/control", ["start"]).status, 0)
    ok = try await reaches("i001", "i002")
    XCTAssertFalse(ok, "isolation lost by stop and start")
    // Removed behind cthulhu's back: apply recreates it, with its fault.
    try await e.driver.remove(id: try await e.container("i002"), force: true)
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
    let q5 = try await rules("i002")
    XCTAssertTrue(q5.contains("CTHULHU-IN"))
    ok = try await reaches("i001", "i002")
    XCTAssertFalse(ok, "isolation lost by a recreate")
    XCTAssertEqual(try cthulhu("heal").status, 0)
    ok = try await reaches("i001", "i002")
    XCTAssertTrue(ok)
  }

  func testForExpiresByItselfAfterTheShellIsGone() async throws {
    try await waitUntilServing()
    // The command returns at once; the detached reaper lifts the fault.
    let r = try cthulhu("isolate", "i003", "--for", "4s")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("until"), r.stdout)
    let f = try XCTUnwrap(try faultBook().faults.first)
    XCTAssertNotNil(f.reaperPID)
    let blocked = try await reaches("i001", "i003")
    XCTAssertFalse(blocked)
    // Read the record itself (not `faults`, which would lift it on the way).
    let deadline = Date().addingTimeInterval(15)
    while try !faultBook().faults.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
    XCTAssertTrue(try faultBook().faults.isEmpty, "the fault outlived its --for")
    let back = try await reaches("i001", "i003")
    XCTAssertTrue(back)
    // The book is saved, then the expiry recorded: wait for its line.
    let logged = Date().addingTimeInterval(10)
    while !EventLog(root: e.root).read().map(\.action).contains("expire f1") && Date() < logged {
      try await Task.sleep(for: .milliseconds(50))
    }
    let events = EventLog(root: e.root).read().map(\.action)
    XCTAssertTrue(events.contains("expire f1"), "\(events)")
    let expiry = EventLog(root: e.root).read().first { $0.kind == .expire }
    XCTAssertEqual(expiry?.lifted, ["f1"])
    XCTAssertEqual(expiry?.instances, ["i003"])
    // The reaper is gone too.
    let cmdline = (try? String(contentsOfFile: "/proc/\(f.reaperPID!)/cmdline", encoding: .utf8)) ?? ""
    XCTAssertFalse(cmdline.contains("_reap"), "the reaper is still running")
  }

  func testWithoutCapabilitiesOneSentenceAndNothingChanges() async throws {
    let setpriv = "/usr/bin/setpriv"
    try Harness.require(FileManager.default.isExecutableFile(atPath: setpriv), "setpriv (util-linux) is missing")
    let r = try Harness.run(setpriv, ["--bounding-set=-net_admin,-sys_admin", Harness.binary, "partition", "--fixture", e.root, "i001", "i002"])
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("network faults need root"), r.stderr)
    XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    XCTAssertTrue(try faultBook().faults.isEmpty)
    let q6 = try await rules("i001")
    XCTAssertFalse(q6.contains("CTHULHU"))
  }

  func testDestroyLeavesNoRuleReaperOrQdiscAndEventsAreInOrder() async throws {
    XCTAssertEqual(try cthulhu("partition", "--halves").status, 0)
    XCTAssertEqual(try cthulhu("rate", "10mbit", "i001", "--for", "10m").status, 0)
    XCTAssertEqual(try cthulhu("heal", "i004").status, 0)
    let reaper = try XCTUnwrap(try faultBook().faults.first { $0.kind == .rate }?.reaperPID)
    XCTAssertTrue(FileManager.default.fileExists(atPath: "/proc/\(reaper)"))
    let actions = EventLog(root: e.root).read().filter { $0.actor.hasPrefix("faults") }.map(\.action)
    XCTAssertEqual(actions, ["partition f1", "rate f2", "heal"])
    // The same facts as fields, for programs (the events page reads these).
    let typed = EventLog(root: e.root).read().filter { $0.actor.hasPrefix("faults") }
    XCTAssertEqual(typed.map(\.kind), [.fault, .fault, .heal])
    XCTAssertEqual(typed.map(\.fault), ["f1", "f2", nil])
    XCTAssertEqual(typed.map(\.result), [.ok, .ok, .ok])
    XCTAssertEqual(typed.map(\.format), [Event.currentFormat, Event.currentFormat, Event.currentFormat])
    XCTAssertEqual(typed[1].instances, ["i001"])
    let r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stderr)
    // The reaper was stopped (wait for the kernel to reap it, with a deadline).
    let deadline = Date().addingTimeInterval(5)
    func alive() -> Bool { ((try? String(contentsOfFile: "/proc/\(reaper)/cmdline", encoding: .utf8)) ?? "").contains("_reap") }
    while alive() && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
    XCTAssertFalse(alive(), "the reaper outlived destroy")
    // Nothing on the host: faults only ever live in the instances' namespaces.
    let ipt = try Harness.run("/usr/sbin/iptables-save", [])
    XCTAssertFalse(ipt.stdout.contains("CTHULHU"), ipt.stdout)
    let tc = try Harness.run("/usr/sbin/tc", ["qdisc", "show"])
    XCTAssertFalse(tc.stdout.contains("c7c7"), tc.stdout)
    let q7 = try await e.driver.containers(fixture: e.fixture)
    XCTAssertTrue(q7.isEmpty)
  }
}

import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// Network faults through the engine path (`faults: { via: helper }`): a
/// fault helper container on the instance's node, in its network namespace,
/// with NET_ADMIN only. Driven through the CLI, checked from inside the
/// containers (who reaches whom) and on the engine (no helper is left).
final class FaultHelperTests: XCTestCase {
  var e: EngineFixture!

  override func setUp() async throws {
    e = try await EngineFixture.make(tag: "faulthelper", prefix: "fh")
    try e.writeManifest(FaultTests.httpNodes(e.fixture, count: 3, header: "faults: { via: helper }\n"))
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  override func tearDown() async throws { try await e?.tearDown() }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  func reaches(_ from: String, _ to: String) async throws -> Bool {
    try await FaultTests.reaches(e, from, to)
  }

  /// Every ordered pair but `blocked` reaches, and the blocked ones do not.
  func assertMatrix(blocked: Set<String>, file: StaticString = #filePath, line: UInt = #line) async throws {
    for a in ["i001", "i002", "i003"] {
      for b in ["i001", "i002", "i003"] where a != b {
        let ok = try await reaches(a, b)
        XCTAssertEqual(
          ok, !blocked.contains("\(a)>\(b)"), "\(a)>\(b) should be \(blocked.contains("\(a)>\(b)") ? "blocked" : "open")", file: file, line: line)
      }
    }
  }

  func waitUntilServing() async throws {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      var all = true
      for (a, b) in [("i001", "i002"), ("i002", "i003"), ("i003", "i001")] where try await !reaches(a, b) { all = false }
      if all { return }
      try await Task.sleep(for: .milliseconds(200))
    }
    XCTFail("the nodes never all answered each other")
  }

  /// No fault helper of this fixture is left on the engine (waits a little
  /// for one the engine is still removing).
  func assertNoHelper(file: StaticString = #filePath, line: UInt = #line) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    var left = try await e.driver.faultHelpers(root: e.root)
    while !left.isEmpty && ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(100))
      left = try await e.driver.faultHelpers(root: e.root)
    }
    XCTAssertEqual(left.map(\.name), [], "fault helpers left behind", file: file, line: line)
  }

  /// cthulhu's rules in an instance's namespace, read through a helper of
  /// its own (iptables-save and tc), so no root is needed here.
  func rules(_ name: String) async throws -> String {
    let id = try await e.container(name)
    let runner = try await e.driver.netnsRunner(id: id, request: NetnsRequest(via: .helper, root: e.root, instance: name))
    let r = try XCTUnwrap(runner)
    do {
      let ipt = try await r.run(["iptables-save"])
      let tc = try await r.run(["tc", "qdisc", "show"])
      await r.close()
      return ipt.stdout + tc.stdout
    } catch {
      await r.close()
      throw error
    }
  }

  func testPartitionHealAndIsolateThroughTheHelperLeaveNoHelper() async throws {
    try await waitUntilServing()
    var r = try cthulhu("partition", "i001", "i002")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("f1: partition {i001} | {i002}"), r.stdout)
    try await assertNoHelper()
    // i001 and i002 no longer reach each other; i003 still reaches both, and both reach it.
    try await assertMatrix(blocked: ["i001>i002", "i002>i001"])
    let i001 = try await rules("i001")
    XCTAssertTrue(i001.contains("-A CTHULHU-IN -s "), i001)
    try await assertNoHelper()

    r = try cthulhu("heal")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertNoHelper()
    try await assertMatrix(blocked: [])
    for n in ["i001", "i002"] {
      let text = try await rules(n)
      XCTAssertFalse(text.contains("CTHULHU"), "\(n) keeps rules after heal:\n\(text)")
    }

    r = try cthulhu("isolate", "i003")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertNoHelper()
    try await assertMatrix(blocked: ["i001>i003", "i002>i003", "i003>i001", "i003>i002"])
    XCTAssertEqual(try cthulhu("heal").status, 0)
    try await assertNoHelper()
    try await assertMatrix(blocked: [])
    XCTAssertTrue(try FaultBook.load(root: e.root).faults.isEmpty)
  }

  func testLossAndRateThroughTheHelper() async throws {
    try await waitUntilServing()
    var r = try cthulhu("loss", "100%", "i002")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertNoHelper()
    try await assertMatrix(blocked: ["i001>i002", "i003>i002", "i002>i001", "i002>i003"])
    r = try cthulhu("loss", "30", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    let text = try await rules("i001")
    XCTAssertTrue(text.contains("--mode random --probability 0.2999"), text)
    XCTAssertEqual(try cthulhu("heal").status, 0)
    try await assertNoHelper()

    // 256 KiB from i001 to i002, free and then at 1mbit.
    func timed() async throws -> (Double, Int) { try await FaultTests.fetchBlob(e, client: "i002", server: "i001") }
    let (free, freeBytes) = try await timed()
    XCTAssertGreaterThan(freeBytes, 262_144)
    r = try cthulhu("rate", "1mbit", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertNoHelper()
    let q = try await rules("i001")
    XCTAssertTrue(q.contains("tbf c7c7:"), q)
    let (shaped, shapedBytes) = try await timed()
    XCTAssertEqual(shapedBytes, freeBytes, "the whole blob arrives, only slower")
    XCTAssertGreaterThan(shaped, 1.5, "256 KiB at 1mbit took \(shaped)s")
    XCTAssertGreaterThan(shaped, free * 3, "shaped \(shaped)s vs free \(free)s")
    XCTAssertEqual(try cthulhu("heal").status, 0)
    try await assertNoHelper()
    let after = try await rules("i001")
    XCTAssertFalse(after.contains("c7c7"), after)
  }

  /// busybox ping's output from `from` to `to`, ending `N packets transmitted, N packets received, D duplicates, …`.
  func ping(_ from: String, _ to: String, count: Int) async throws -> String {
    let ip = try XCTUnwrap(try FixtureState.require(root: e.root).instance(named: to)?.ip)
    let id = try await e.container(from)
    let r = try await e.driver.exec(id: id, command: ["ping", "-c", "\(count)", "-i", "0.05", "-W", "2", "\(ip)"])
    return r.stdout + r.stderr
  }

  func testDuplicateThroughTheHelperCopiesEveryReplyAndHealStops() async throws {
    try await waitUntilServing()
    let r = try cthulhu("duplicate", "100%", "i001")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.hasPrefix("f1: duplicate 100% i001"), r.stdout)
    try await assertNoHelper()
    let ip = try XCTUnwrap(try FixtureState.require(root: e.root).instance(named: "i001")?.ip)
    let text = try await rules("i001")
    XCTAssertTrue(text.contains("-A CTHULHU-DUP ! -i lo -j TEE --gateway \(ip)"), text)
    // Every echo reply arriving at i001 is delivered twice (ping may exit before the last copy is read).
    let doubled = try await ping("i001", "i002", count: 20)
    XCTAssertTrue(doubled.contains("20 packets received"), doubled)
    let dups = doubled.firstMatch(of: /received, \+?([0-9]+) duplicates/).flatMap { Int($0.1) } ?? 0
    XCTAssertGreaterThanOrEqual(dups, 19, doubled)
    XCTAssertEqual(try cthulhu("heal").status, 0)
    try await assertNoHelper()
    let after = try await rules("i001")
    XCTAssertFalse(after.contains("CTHULHU-DUP"), after)
    let plain = try await ping("i001", "i002", count: 10)
    XCTAssertTrue(plain.contains("10 packets received") && !plain.contains("duplicates"), plain)
  }

  func testRestartPutsFaultsBackAndForExpiresThroughTheHelper() async throws {
    try await waitUntilServing()
    XCTAssertEqual(try cthulhu("isolate", "i002").status, 0)
    XCTAssertEqual(try cthulhu("restart", "i002").status, 0)
    try await assertNoHelper()
    var ok = try await reaches("i001", "i002")
    XCTAssertFalse(ok, "isolation lost by a restart")
    XCTAssertEqual(try cthulhu("heal").status, 0)
    // The detached reaper lifts the fault through a helper of its own.
    let r = try cthulhu("isolate", "i003", "--for", "4s")
    XCTAssertEqual(r.status, 0, r.stderr)
    ok = try await reaches("i001", "i003")
    XCTAssertFalse(ok)
    let deadline = Date().addingTimeInterval(20)
    while try !FaultBook.load(root: e.root).faults.isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
    XCTAssertTrue(try FaultBook.load(root: e.root).faults.isEmpty, "the fault outlived its --for")
    let back = Date().addingTimeInterval(10)
    ok = false
    while !ok && Date() < back {
      ok = try await reaches("i001", "i003")
      if !ok { try await Task.sleep(for: .milliseconds(100)) }
    }
    XCTAssertTrue(ok, "i003 still cut off after its --for")
    // The book is saved, then the expiry recorded: wait for its line.
    let logged = Date().addingTimeInterval(10)
    while !EventLog(root: e.root).read().map(\.action).contains("expire f2") && Date() < logged {
      try await Task.sleep(for: .milliseconds(50))
    }
    XCTAssertTrue(EventLog(root: e.root).read().map(\.action).contains("expire f2"))
    try await assertNoHelper()
  }

  func testWithoutCapabilitiesTheHelperPathStillWorks() async throws {
    let setpriv = "/usr/bin/setpriv"
    try Harness.require(FileManager.default.isExecutableFile(atPath: setpriv), "setpriv (util-linux) is missing")
    try await waitUntilServing()
    // What the host path refuses (see FaultTests) the engine does: only the socket is needed.
    let r = try Harness.run(setpriv, ["--bounding-set=-net_admin,-sys_admin", Harness.binary, "partition", "--fixture", e.root, "i001", "i002"])
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    try await assertMatrix(blocked: ["i001>i002", "i002>i001"])
    let h = try Harness.run(setpriv, ["--bounding-set=-net_admin,-sys_admin", Harness.binary, "heal", "--fixture", e.root])
    XCTAssertEqual(h.status, 0, h.stdout + h.stderr)
    try await assertMatrix(blocked: [])
    try await assertNoHelper()
  }

  func testDelayIsProbedOnTheInstancesKernelThroughAScratchHelper() async throws {
    let probe = try Harness.run("/usr/bin/unshare", ["--net", "--", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"])
    let r = try cthulhu("delay", "100ms", "i001")
    if probe.status == 0 {
      XCTAssertEqual(r.status, 0, r.stderr)
      let q = try await rules("i001")
      XCTAssertTrue(q.contains("netem c7c7:"), q)
    } else {
      // The same kernel here: the helper's probe (in a namespace of its own) says what the host's says,
      // and the queue path (a cthulhu process entering the namespace from this machine) is not the helper's.
      XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
      XCTAssertTrue(r.stderr.contains("sch_netem"), r.stderr)
      XCTAssertTrue(r.stderr.contains("faults.via: helper"), r.stderr)
      XCTAssertTrue(r.stderr.contains("Nothing was changed"), r.stderr)
      XCTAssertTrue(try FaultBook.load(root: e.root).faults.isEmpty)
      let q = try await rules("i001")
      XCTAssertFalse(q.contains("c7c7"), q)
    }
    try await assertNoHelper()
  }

  func testACommandPastItsTimeKillsAndRemovesTheHelper() async throws {
    let id = try await e.container("i001")
    let request = NetnsRequest(via: .helper, root: e.root, instance: "i001", commandTimeout: .seconds(2))
    let runner = try await e.driver.netnsRunner(id: id, request: request)
    let r = try XCTUnwrap(runner)
    XCTAssertNotNil(r as? DockerFaultHelper, "via: helper gave \(type(of: r))")
    // Start the helper with a quick command, so the slow one is timed alone.
    let quick = try await r.run(["true"])
    XCTAssertEqual(quick.status, 0, quick.stderr)
    let before = try await e.driver.faultHelpers(root: e.root)
    XCTAssertEqual(before.count, 1, "\(before.map(\.name))")
    XCTAssertEqual(before.first?.labels[FaultHelperLabels.instance], "i001")
    let start = ContinuousClock.now
    do {
      _ = try await r.run(["sleep", "60"])
      XCTFail("a 60 s command in a helper with a 2 s limit returned")
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .step)
      XCTAssertTrue(e.message.contains("did not finish within"), e.message)
    }
    XCTAssertLessThan(ContinuousClock.now - start, .seconds(20))
    try await assertNoHelper()
    await r.close()
    try await assertNoHelper()
  }

  func testLeftoversOfAKilledCthulhuGoWithTheNextFaultAndDestroyTakesAll() async throws {
    // A PID that no longer runs: a process that has exited and been waited for.
    let gone = Process()
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    let dead = gone.processIdentifier
    let i001 = try await e.container("i001")
    let orphan = try await e.driver.netnsRunner(id: i001, request: NetnsRequest(via: .helper, root: e.root, instance: "i001", owner: dead))
    let live = try await e.driver.netnsRunner(id: i001, request: NetnsRequest(via: .helper, root: e.root, instance: "i001"))
    _ = try await XCTUnwrap(orphan).run(["true"])
    _ = try await XCTUnwrap(live).run(["true"])
    var helpers = try await e.driver.faultHelpers(root: e.root)
    XCTAssertEqual(helpers.count, 2)
    // A fault command removes the helper whose cthulhu is gone, not the one of a cthulhu that runs.
    XCTAssertEqual(try cthulhu("isolate", "i003").status, 0)
    helpers = try await e.driver.faultHelpers(root: e.root)
    XCTAssertEqual(helpers.compactMap { $0.labels[FaultHelperLabels.owner] }, [String(getpid())])
    let r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stderr)
    try await assertNoHelper()
    try await XCTUnwrap(live).close()
  }

  func testAutoEntersFromTheHostWhenTheEngineIsLocalAndHostIsHost() async throws {
    let id = try await e.container("i001")
    let auto = try await e.driver.netnsRunner(id: id, request: NetnsRequest(via: .auto, root: e.root, instance: "i001"))
    let host = try await e.driver.netnsRunner(id: id, request: NetnsRequest(via: .host, root: e.root, instance: "i001"))
    let pid = try await e.driver.inspect(id: id).pid
    XCTAssertEqual((auto as? HostNetns)?.namespace, "/proc/\(pid)/ns/net", "auto on the local engine gave \(String(describing: auto))")
    XCTAssertEqual((host as? HostNetns)?.namespace, "/proc/\(pid)/ns/net")
    try await assertNoHelper()
  }
}

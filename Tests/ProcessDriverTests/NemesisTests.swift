import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `cthulhu nemesis start|stop|status` through the built binary, on three
/// busybox web servers in network namespaces (root): a short schedule runs
/// in the background, its faults and heals land in events.jsonl, and stop
/// heals everything it caused (and nothing else).
final class NemesisTests: FixtureTestCase {

  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("nem")
    try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
  }

  func writeManifest(_ nemesis: String, mode: String = "namespaces") throws {
    if mode == "namespaces" { try Host.requireRoot() }
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: \(mode) }
    groups:
      node:
        count: 3
        command: ["\(Host.busybox)", "sh", "-c", "exec \(Host.busybox) httpd -f -p \\"$CTHULHU_IP:8080\\" -h \(dir)/www"]
        stop_timeout: 1s
    nemesis:
    \(nemesis)
    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    // Before the destroy: a schedule still running would fault it again.
    for pid in nemesisProcesses() { kill(pid, SIGKILL) }
    try await super.tearDown()
  }

  func events() -> [Event] { EventLog(root: root).read() }

  /// `cthulhu _nemesis` processes of this fixture that are alive (not zombies).
  func nemesisProcesses() -> [Int32] {
    // pid → parent, of every live process whose command line is this fixture's nemesis.
    var found: [Int32: Int32] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(name), let argv = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
        let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
      else { continue }
      let args = argv.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
      let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
      guard args.contains("_nemesis"), args.contains(root), fields.first != "Z", fields.count > 1, let ppid = Int32(fields[1]) else { continue }
      found[pid] = ppid
    }
    // A child it is spawning (iptables, nsenter) carries its command line until its exec: not a second nemesis.
    return found.filter { found[$0.value] == nil }.map(\.key).sorted()
  }

  /// Every instance is running (none paused or stopped).
  func allRunning() throws -> Bool {
    let lines = try cthulhu("status", "--fixture", root).stdout.split(separator: "\n").filter { $0.hasPrefix("i00") }
    return lines.count == 3 && lines.allSatisfy { $0.contains("running") }
  }

  func testAScheduleRunsInTheBackgroundAndStopHealsWhatItCaused() async throws {
    try writeManifest(
      """
        seed: 5
        faults:
          - partition: halves
            for: 700ms
            every: 1500ms
          - delay: 200ms
            targets: i002
            after: 300ms
            for: 1m
          - pause: random 1
            after: 500ms
            for: 1m
      """)
    try mustSucceed("apply")
    // A fault someone made by hand is not the nemesis's to heal.
    try mustSucceed("loss", "10", "i003")
    let started = try mustSucceed("nemesis", "start")
    XCTAssertTrue(started.hasPrefix("nemesis started (pid "), started)
    XCTAssertTrue(started.contains("first: 1.1 partition (halves) {"), started)
    XCTAssertEqual(nemesisProcesses().count, 1)
    // The cthulhu that started it has exited; it goes on: two occurrences
    // of the partition, each healed, and the long faults in force.
    try await Host.eventually("the partition came, went, and came back", within: 20) {
      let actions = self.events().map(\.action)
      return actions.contains("nemesis heal 1.1") && actions.contains("nemesis fault 1.2") && actions.contains("nemesis fault 3.1")
    }
    let log = events()
    // Through the fault commands' own paths: their events, with times.
    let partitions = log.filter { $0.action.hasPrefix("partition f") && $0.outcome.hasPrefix("ok") }
    let lifts = log.filter { $0.action.hasPrefix("lift f") }
    XCTAssertGreaterThanOrEqual(partitions.count, 2)
    XCTAssertGreaterThanOrEqual(lifts.count, 1)
    XCTAssertLessThan(partitions[0].time, lifts[0].time)
    XCTAssertTrue(log.contains { $0.action == "pause" && $0.actor.hasPrefix("control[") })
    XCTAssertFalse(log.contains { $0.outcome.hasPrefix("failed") }, log.map(EventLog.format).joined(separator: "\n"))
    let listed = try mustSucceed("faults")
    XCTAssertTrue(listed.contains("delay 200ms i002 (nemesis)"), listed)
    let status = try mustSucceed("nemesis", "status")
    XCTAssertTrue(status.hasPrefix("nemesis running (pid "), status)
    XCTAssertTrue(status.contains("\nNext: "), status)
    XCTAssertFalse(try allRunning(), "one instance is paused")
    XCTAssertTrue(try mustSucceed("status").contains("\nNemesis running (pid "))

    let stopped = try mustSucceed("nemesis", "stop")
    XCTAssertTrue(stopped.hasPrefix("nemesis stopped; healed: "), stopped)
    XCTAssertEqual(nemesisProcesses(), [])
    let left = try FaultBook.load(root: root).faults
    XCTAssertEqual(left.map(\.summary), ["loss 10% i003"], "stop lifts the nemesis's faults, not the one made by hand")
    XCTAssertTrue(try allRunning(), "stop unpaused the paused instance")
    let rules = try cthulhu("exec", "--fixture", root, "i002", "--", "iptables-save").stdout
    XCTAssertFalse(rules.contains("NFQUEUE") || rules.contains("DROP"), rules)
    XCTAssertTrue(events().last?.action == "nemesis stop")
    let after = try mustSucceed("nemesis", "status")
    XCTAssertTrue(after.hasPrefix("nemesis stopped at "), after)
  }

  func statusJSON(_ run: [String] = ["nemesis", "status", "--json"]) throws -> NemesisStatusReport {
    let r = try Host.run(run[0].hasPrefix("/") ? run[0] : Host.cthulhuBinary, run[0].hasPrefix("/") ? Array(run.dropFirst()) : run, in: dir)
    XCTAssertEqual(r.status, 0, "\(run.joined(separator: " ")): \(r.stdout)\(r.stderr)")
    return try NemesisStatusReport.decode(Data(r.stdout.utf8))
  }

  func testStatusJSONFollowsTheStepsAndSaysWhenItStopped() async throws {
    try writeManifest(
      """
        seed: 9
        faults:
          - isolate: random 1
            after: 200ms
            for: 1m
          - pause: i003
            after: 400ms
            for: 1m
      """)
    // No fixture: an error, as plain `status` says.
    XCTAssertEqual(try cthulhu("nemesis", "status", "--json").status, 1)
    // The plan as data carries the schedule and its draws, as the text plan shows them.
    let plan = try JSONDecoder().decode(Plan.self, from: Data(try mustSucceed("plan", "--json").utf8))
    let schedule = try XCTUnwrap(plan.nemesis)
    XCTAssertEqual(plan.formatVersion, 2)
    XCTAssertEqual(schedule.seed, 9)
    XCTAssertEqual(schedule.faults.map(\.kind), ["isolate", "pause"])
    XCTAssertEqual(schedule.faults.map(\.afterMs), [200, 400])
    XCTAssertEqual(schedule.faults.map(\.forMs), [60000, 60000])
    XCTAssertEqual(schedule.firstSteps.map(\.label), ["1.1", "2.1", "1.1", "2.1"])
    XCTAssertEqual(schedule.firstSteps.map(\.action), ["fault", "fault", "heal", "heal"])
    XCTAssertFalse(schedule.moreSteps)
    let text = try mustSucceed("plan")
    for s in schedule.firstSteps { XCTAssertTrue(text.contains("  \(s.label)  \(s.summary)\n"), text) }
    try mustSucceed("apply")
    let before = try statusJSON()
    XCTAssertEqual(before.state, "none")
    XCTAssertFalse(before.running)
    XCTAssertNil(before.pid)

    try mustSucceed("nemesis", "start")
    var status = before
    try await Host.eventually("nemesis status --json shows both faults done", within: 20) {
      status = try self.statusJSON()
      return status.steps.count >= 2
    }
    XCTAssertEqual(status.formatVersion, 1)
    XCTAssertEqual(status.state, "running")
    XCTAssertTrue(status.running)
    XCTAssertEqual(status.pid.map { [$0] }, nemesisProcesses())
    XCTAssertEqual(status.seed, 9)
    XCTAssertEqual(status.stepsDone, 2)
    let startedAt = try XCTUnwrap(status.startedAt)

    let isolate = status.steps[0]
    XCTAssertEqual(isolate.label, "1.1")
    XCTAssertEqual(isolate.action, "fault")
    XCTAssertEqual(isolate.kind, "isolate")
    XCTAssertEqual(isolate.outcome, "ok", isolate.error ?? "")
    XCTAssertEqual(isolate.targets.count, 1)
    XCTAssertEqual(isolate.targets, schedule.firstSteps[0].targets, "the member the plan said the seed draws")
    let faultID = try XCTUnwrap(isolate.faultID)
    // The fault it names is the one `faults` lists as the nemesis's.
    XCTAssertEqual(try FaultBook.load(root: root).faults.first { $0.id == faultID }?.owner, NemesisRecord.owner)
    XCTAssertEqual(status.faults.map(\.id), [faultID])
    XCTAssertEqual(status.faults.first?.targets, isolate.targets)

    let pause = status.steps[1]
    XCTAssertEqual(pause.label, "2.1")
    XCTAssertEqual(pause.kind, "pause")
    XCTAssertEqual(pause.targets, ["i003"])
    XCTAssertEqual(pause.outcome, "ok", pause.error ?? "")
    XCTAssertNil(pause.faultID, "a process fault makes no network fault")
    XCTAssertLessThanOrEqual(isolate.time, pause.time)
    XCTAssertGreaterThanOrEqual(isolate.time.timeIntervalSince(startedAt), -1)

    XCTAssertEqual(status.inForce.map(\.label), ["1.1", "2.1"])
    XCTAssertEqual(status.inForce.map(\.faultID), [faultID, nil])
    // Next: the isolation healed a minute after it came.
    let next = try XCTUnwrap(status.next)
    XCTAssertEqual(next.label, "1.1")
    XCTAssertEqual(next.action, "heal")
    XCTAssertEqual(next.targets, isolate.targets)
    XCTAssertEqual(next.at.timeIntervalSince(startedAt), 60.2, accuracy: 0.01)
    XCTAssertNil(status.lastError)
    // The fixture's control script gives the same.
    XCTAssertEqual(try statusJSON([root + "/control", "nemesis", "status", "--json"]).pid, status.pid)

    try mustSucceed("nemesis", "stop")
    let after = try statusJSON()
    XCTAssertEqual(after.state, "stopped")
    XCTAssertFalse(after.running)
    XCTAssertNil(after.pid)
    XCTAssertNil(after.next)
    XCTAssertEqual(after.inForce, [])
    XCTAssertEqual(after.faults, [])
    XCTAssertEqual(after.steps.map(\.label), ["1.1", "2.1"], "the steps done stay")
    XCTAssertGreaterThanOrEqual(try XCTUnwrap(after.endedAt), startedAt)
    XCTAssertEqual(nemesisProcesses(), [])
    XCTAssertTrue(try allRunning(), "stop unpaused i003")
  }

  func testAKilledNemesisLeavesFaultsThatStatusNamesAndHealClears() async throws {
    try writeManifest(
      """
        faults:
          - isolate: i001
            for: 1m
          - kill: i003
            for: 1m
      """)
    try mustSucceed("apply")
    try mustSucceed("nemesis", "start")
    try await Host.eventually("the nemesis killed i003", within: 15) { self.events().contains { $0.action == "nemesis fault 2.1" } }
    let pid = try XCTUnwrap(nemesisProcesses().first)
    kill(pid, SIGKILL)
    try await Host.eventually("the nemesis is gone", within: 5) { self.nemesisProcesses().isEmpty }
    let overview = try mustSucceed("status")
    XCTAssertTrue(overview.contains("\nNemesis killed before it healed what it had in force"), overview)
    let status = try mustSucceed("nemesis", "status")
    XCTAssertTrue(status.hasPrefix("nemesis not running: its process (pid \(pid)) ended without finishing or being stopped (killed?)"), status)
    XCTAssertTrue(status.contains("isolate i001"), status)
    XCTAssertTrue(status.contains("kill i003"), status)
    // A new one waits until the old one's faults are healed.
    let refused = try cthulhu("nemesis", "start")
    XCTAssertEqual(refused.status, 1)
    XCTAssertTrue(refused.stderr.contains("left in force"), refused.stderr)
    // `heal` lifts the network fault; `nemesis stop` starts what it killed.
    try mustSucceed("heal")
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
    let stopped = try mustSucceed("nemesis", "stop")
    XCTAssertEqual(stopped, "nemesis was not running; healed: restarted i003\n")
    XCTAssertTrue(try allRunning())
    // And destroy ends a running one.
    try mustSucceed("nemesis", "start")
    let second = try XCTUnwrap(nemesisProcesses().first)
    try mustSucceed("destroy")
    try await Host.eventually("destroy stopped the nemesis", within: 15) { !self.nemesisProcesses().contains(second) }
  }

  func testAScheduleThatRunsOutEndsByItself() async throws {
    try writeManifest(
      """
        seed: 3
        faults:
          - partition: majority
            for: 300ms
            every: 600ms
            times: 2
      """)
    try mustSucceed("apply")
    try mustSucceed("nemesis", "start", "--seed", "11")
    try await Host.eventually("the schedule ran out", within: 15) { self.events().contains { $0.action == "nemesis end" } }
    let log = events().filter { $0.action.hasPrefix("nemesis ") }.map(\.action)
    XCTAssertEqual(log, ["nemesis start", "nemesis fault 1.1", "nemesis heal 1.1", "nemesis fault 1.2", "nemesis heal 1.2", "nemesis end"])
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
    try await Host.eventually("its process ended", within: 5) { self.nemesisProcesses().isEmpty }
    let status = try mustSucceed("nemesis", "status")
    XCTAssertTrue(status.hasPrefix("nemesis finished at "), status)
    XCTAssertTrue(status.contains("seed 11"), status)
  }

  func testOnLoopbackProcessFaultsComeAndGoWithoutRoot() async throws {
    try writeManifest(
      """
        faults:
          - pause: random 1
            for: 400ms
            every: 800ms
          - kill: i002
            signal: TERM
            after: 200ms
            for: 500ms
      """, mode: "loopback")
    try mustSucceed("apply")
    try mustSucceed("nemesis", "start")
    try await Host.eventually("a pause came and went twice, and i002 was back", within: 20) {
      let a = self.events().map(\.action)
      return a.contains("nemesis heal 1.2") && a.contains("nemesis heal 2.1")
    }
    let log = events()
    XCTAssertTrue(log.contains { $0.action == "kill TERM" && $0.targets == ["i002"] })
    XCTAssertTrue(log.contains { $0.action == "unpause" })
    XCTAssertFalse(log.contains { $0.outcome.hasPrefix("failed") }, log.map(EventLog.format).joined(separator: "\n"))
    try mustSucceed("nemesis", "stop")
    try await Host.eventually("every instance runs", within: 10) { try self.allRunning() }
  }
}

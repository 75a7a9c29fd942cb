import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// What must hold when things go wrong: apply killed at any point, Ctrl-C,
/// two applies at once, a fixture left behind by a killed test runner, and
/// containers and networks that are not cthulhu's.
final class HardeningTests: XCTestCase {
  var e: EngineFixture!

  override func setUp() async throws {
    e = try await EngineFixture.make(tag: "hard", prefix: "hd")
  }

  override func tearDown() async throws { try await e?.tearDown() }

  func writeManifest(count: Int, in folder: String? = nil, fixture name: String? = nil) throws {
    try """
    fixture: \(name ?? e.fixture)
    groups:
      node:
        image: cthulhu-test:latest
        count: \(count)
        command: ["/bin/sh", "-c", "exec sleep 3600"]
        stop_timeout: 1s

    """.write(toFile: (folder ?? e.dir) + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  /// Starts cthulhu without waiting; output goes to files the test can poll.
  func launch(_ args: [String], in folder: String? = nil) throws -> (Process, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Harness.binary)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: folder ?? e.dir)
    let base = (folder ?? e.dir) + "/run-\(UUID().uuidString.prefix(6))"
    _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
    _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
    p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
    try p.run()
    return (p, base + ".out", base + ".err")
  }

  func text(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

  /// Waits for `condition` with a deadline; false when it never held.
  func eventually(_ seconds: Double = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try await condition() { return true }
      try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
  }

  func running() async throws -> Int {
    try await e.driver.containers(fixture: e.fixture).filter { $0.state == .running }.count
  }

  /// Converged: apply succeeds, then a plan has nothing to do and `count` run.
  func assertConverges(to count: Int, _ label: String) async throws {
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, "\(label): \(r.stdout)\n\(r.stderr)")
    let p = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(p.status, 0, "\(label): not converged:\n\(p.stdout)\(p.stderr)")
    let n = try await running()
    XCTAssertEqual(n, count, label)
    // A killed apply may leave the lock file, never a held lock (flock dies with its holder).
    let fd = open(e.root + "/.cthulhu/lock", O_RDWR)
    if fd >= 0 {
      XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0, "\(label): the fixture lock is still held")
      close(fd)
    }
  }

  func testApplyKilledAtAnyPointIsRepairedByTheNextApply() async throws {
    // 20 trials between 10 and 4 instances (creates and deletes), each
    // SIGKILLed at a later point: from before the first step to the last.
    for trial in 0..<20 {
      let count = trial % 2 == 0 ? 10 : 4
      try writeManifest(count: count)
      let (p, _, _) = try launch(["apply", "--parallel", "3"])
      try await Task.sleep(for: .milliseconds(40 + 60 * trial))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      // The state file is never torn: it parses, or there is none yet.
      XCTAssertNoThrow(try FixtureState.load(root: e.root), "trial \(trial): torn state")
      try await assertConverges(to: count, "trial \(trial)")
    }
    let r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stderr)
    let left = try await e.driver.containers(fixture: e.fixture)
    XCTAssertTrue(left.isEmpty, "\(left.map(\.name))")
    let nets = try await e.driver.networks().filter { $0.name == "cthulhu-" + e.fixture }
    XCTAssertTrue(nets.isEmpty)
    XCTAssertFalse(FileManager.default.fileExists(atPath: e.root))
  }

  func testCtrlCFinishesStepsInFlightStartsNoMoreAndExits130() async throws {
    try writeManifest(count: 10)
    let (p, out, err) = try launch(["apply", "--parallel", "1"])
    let started = await eventually { self.text(out).contains("create done") }
    XCTAssertTrue(started, text(out) + text(err))
    kill(p.processIdentifier, SIGINT)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 130, text(out) + text(err))
    XCTAssertTrue(text(err).contains("Interrupted: the steps in flight finished"), text(err))
    XCTAssertTrue(text(err).contains("not started: instance:"), text(err))
    // Every step that started also finished, and the state records each of them.
    let lines = text(out).split(separator: "\n").filter { $0.hasPrefix("instance:") }
    let began = lines.filter { $0.hasSuffix("create…") }.count
    let ended = lines.filter { $0.contains("create done") }.count
    XCTAssertEqual(began, ended, text(out))
    let state = try FixtureState.require(root: e.root)
    XCTAssertEqual(state.instances.count, ended)
    XCTAssertLessThan(ended, 10)
    try await assertConverges(to: 10, "after Ctrl-C")
  }

  func testTwoAppliesOfOneFixtureOneWaitsNotTheOtherFailsNamingTheHolder() async throws {
    try writeManifest(count: 8)
    let (p, out, _) = try launch(["apply", "--parallel", "1"])
    let holding = await eventually { self.text(out).contains("create…") }
    XCTAssertTrue(holding)
    let t0 = Date()
    let second = try cthulhu("apply")
    XCTAssertEqual(second.status, 1)
    XCTAssertTrue(second.stderr.contains("is locked by pid \(p.processIdentifier) (cthulhu apply)"), second.stderr)
    XCTAssertLessThan(Date().timeIntervalSince(t0), 5, "the second apply must fail at once, not wait")
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0)
    try await assertConverges(to: 8, "after the race")
  }

  func testTwoFixturesApplyInParallelWithoutInterfering() async throws {
    let other = "hd-" + String(UUID().uuidString.prefix(6)).lowercased()
    let otherDir = try Harness.tempDir("hard-b")
    defer {
      _ = try? Harness.cthulhu(["destroy"], in: otherDir)
      try? FileManager.default.removeItem(atPath: otherDir)
    }
    try writeManifest(count: 4)
    try writeManifest(count: 4, in: otherDir, fixture: other)
    let a = try launch(["apply"])
    let b = try launch(["apply"], in: otherDir)
    a.0.waitUntilExit()
    b.0.waitUntilExit()
    XCTAssertEqual(a.0.terminationStatus, 0, text(a.err))
    XCTAssertEqual(b.0.terminationStatus, 0, text(b.err))
    let sa = try FixtureState.require(root: e.root)
    let sb = try FixtureState.require(root: otherDir + "/cthulhu-fixture")
    XCTAssertNotEqual(sa.subnet, sb.subnet)
    let ca = try await e.driver.containers(fixture: e.fixture)
    let cb = try await e.driver.containers(fixture: other)
    XCTAssertEqual(ca.count, 4)
    XCTAssertEqual(cb.count, 4)
    XCTAssertTrue(Set(ca.map(\.id)).isDisjoint(with: cb.map(\.id)))
    // Destroying one leaves the other running.
    XCTAssertEqual(try cthulhu("destroy").status, 0)
    let still = try await e.driver.containers(fixture: other).filter { $0.state == .running }.count
    XCTAssertEqual(still, 4)
  }

  func testTTLDestroysTheFixtureAfterEveryCthulhuIsGoneAndApplyExtendsIt() async throws {
    try writeManifest(count: 2)
    var r = try cthulhu("apply", "--ttl", "4s")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("destroys itself at"), r.stdout)
    let first = try XCTUnwrap(try FixtureState.require(root: e.root).expiresAt)
    r = try cthulhu("status")
    XCTAssertTrue(r.stdout.contains("Expires at"), r.stdout)
    // A second apply (nothing to change) pushes the expiry back.
    try await Task.sleep(for: .milliseconds(1500))
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
    let second = try XCTUnwrap(try FixtureState.require(root: e.root).expiresAt)
    XCTAssertGreaterThan(second.timeIntervalSince(first), 0.5)
    // At the first expiry it is still there: the old reaper stood down.
    let earlyGone = await eventually(Double(max(0, first.timeIntervalSinceNow)) + 0.5) { (try? await self.running()) == 0 }
    XCTAssertFalse(earlyGone, "destroyed at the old expiry")
    // No cthulhu runs now; the detached reaper destroys it at the new one.
    let gone = await eventually(20) { (try? await self.running()) == 0 && !FileManager.default.fileExists(atPath: self.e.root) }
    XCTAssertTrue(gone, "the fixture outlived its ttl")
    let nets = try await e.driver.networks().filter { $0.name == "cthulhu-" + e.fixture }
    XCTAssertTrue(nets.isEmpty)
  }

  func testNothingUnownedIsEverTouched() async throws {
    let docker = "/usr/bin/docker"
    try Harness.require(FileManager.default.isExecutableFile(atPath: docker), "the docker CLI is missing")
    let tag = String(UUID().uuidString.prefix(6)).lowercased()
    let env = ["DOCKER_API_VERSION": "1.41"]
    // A bystander container, one with another fixture's label, and a network.
    let netName = "bystander-net-\(tag)"
    XCTAssertEqual(try Harness.run(docker, ["network", "create", netName], env: env).status, 0)
    let plain = try Harness.run(
      docker, ["run", "-d", "--name", "bystander-\(tag)", "--network", netName, "cthulhu-test:latest", "sleep", "600"], env: env)
    let labelled = try Harness.run(
      docker, ["run", "-d", "--name", "\(e.fixture)-x-\(tag)", "--label", "io.cthulhu.fixture=other-\(tag)", "cthulhu-test:latest", "sleep", "600"],
      env: env)
    defer {
      _ = try? Harness.run(docker, ["rm", "-f", "bystander-\(tag)", "\(e.fixture)-x-\(tag)"], env: env)
      _ = try? Harness.run(docker, ["network", "rm", netName], env: env)
    }
    XCTAssertEqual(plain.status, 0, plain.stderr)
    XCTAssertEqual(labelled.status, 0, labelled.stderr)
    let pid =
      Int32(
        try Harness.run(docker, ["inspect", "-f", "{{.State.Pid}}", "bystander-\(tag)"], env: env).stdout.trimmingCharacters(
          in: .whitespacesAndNewlines)) ?? 0
    let rulesBefore = try Harness.run("/usr/bin/nsenter", ["--net=/proc/\(pid)/ns/net", "--", "iptables-save"]).stdout
      .split(separator: "\n").filter { !$0.hasPrefix("#") }

    try writeManifest(count: 3)
    XCTAssertEqual(try cthulhu("apply").status, 0)
    if getuid() == 0 {
      XCTAssertEqual(try cthulhu("partition", "--halves").status, 0)
      XCTAssertEqual(try cthulhu("heal").status, 0)
    }
    XCTAssertEqual(try cthulhu("stop", "all").status, 0)
    XCTAssertEqual(try cthulhu("destroy").status, 0)

    for name in ["bystander-\(tag)", "\(e.fixture)-x-\(tag)"] {
      let s = try Harness.run(docker, ["inspect", "-f", "{{.State.Status}}", name], env: env)
      XCTAssertEqual(s.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "running", "\(name) was touched")
    }
    XCTAssertEqual(try Harness.run(docker, ["network", "inspect", netName], env: env).status, 0, "the bystander network is gone")
    let rulesAfter = try Harness.run("/usr/bin/nsenter", ["--net=/proc/\(pid)/ns/net", "--", "iptables-save"]).stdout
      .split(separator: "\n").filter { !$0.hasPrefix("#") }
    XCTAssertEqual(rulesBefore, rulesAfter)
  }
}

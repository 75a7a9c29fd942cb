import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// The engine going away mid-apply (issues #7 and #13): dockerd is killed
/// while an apply runs; the apply ends with one clear error and a whole
/// state, and the next apply, once the daemon is back, converges, wherever
/// in the apply the kill fell.
///
/// It stops the machine's shared dockerd, so it runs only where nothing else
/// uses that engine at the same time: `scripts/test.sh` sets
/// `CTHULHU_TEST_ENGINE_RESTART=1` (the suite runs one test at a time), and
/// it starts the daemon again with `scripts/dockerd-start.sh`. (A second,
/// private dockerd is no way out: without a bridge of its own it deletes the
/// host's docker0, see docs/hardening.md.)
final class EngineGoneTests: XCTestCase {
  static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  var dir = ""
  var fixture = ""
  var root: String { dir + "/cthulhu-fixture" }
  /// Containers the killed daemon knew (their shims outlive it).
  var orphaned: Set<String> = []

  override func setUp() async throws {
    try Harness.require(
      ProcessInfo.processInfo.environment["CTHULHU_TEST_ENGINE_RESTART"] == "1",
      "stopping the shared dockerd needs CTHULHU_TEST_ENGINE_RESTART=1 (scripts/test.sh sets it)")
    try Harness.require(getuid() == 0, "stopping and starting dockerd needs root")
    let d = try await Harness.engine()
    try await d.shutdown()
    dir = try Harness.tempDir("engine-gone")
    fixture = "eg-" + String(UUID().uuidString.prefix(6)).lowercased()
  }

  override func tearDown() async throws {
    guard !dir.isEmpty else { return }
    // Whatever happened, the engine is up again for the tests that follow.
    _ = try? await startEngine()
    if FileManager.default.fileExists(atPath: root) { _ = try? Harness.cthulhu(["destroy", "--fixture", root], in: dir) }
    for trial in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where trial.hasPrefix("t") {
      let folder = dir + "/" + trial + "/cthulhu-fixture"
      if FileManager.default.fileExists(atPath: folder) { _ = try? Harness.cthulhu(["destroy", "--fixture", folder], in: dir) }
    }
    killShims(of: orphaned)
    try? FileManager.default.removeItem(atPath: dir)
  }

  /// The killed daemon's leftovers, not cthulhu's: the containerd shims of
  /// the containers it knew outlive their containers' removal.
  func killShims(of ids: Set<String>) {
    guard !ids.isEmpty else { return }
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap({ Int32($0) }) ?? [] {
      let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
      if cmd.hasPrefix("/usr/bin/containerd-shim"), ids.contains(where: { cmd.contains("-id\u{0}" + $0) }) { kill(pid, SIGKILL) }
    }
  }

  /// The ids of every container of `fixture` the engine has, and of those the state at `root` records.
  func containerIDs(fixture: String, root: String) throws -> Set<String> {
    let listed = try Harness.run(
      "/bin/sh", ["-c", "docker ps -aq --no-trunc --filter label=\(Labels.fixture)=\(fixture)"], env: ["DOCKER_API_VERSION": "1.41"])
    let recorded = (try? FixtureState.load(root: root))??.instances.compactMap(\.containerID) ?? []
    return Set(listed.stdout.split(separator: "\n").map(String.init)).union(recorded)
  }

  /// What is left of `fixture` on the engine: container and network ids.
  func leftovers(fixture: String) throws -> String {
    let left = try Harness.run(
      "/bin/sh",
      ["-c", "docker ps -aq --filter label=\(Labels.fixture)=\(fixture); docker network ls -q --filter label=\(Labels.fixture)=\(fixture)"],
      env: ["DOCKER_API_VERSION": "1.41"])
    return left.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Through the driver's spawner, not Foundation's Process: the daemon the
  /// script leaves running would inherit Process's descriptors and keep its
  /// `waitUntilExit` waiting forever; the spawner closes all but 0, 1 and 2.
  func startEngine() async throws -> Spawner.Output {
    try await Spawner.run(["/bin/bash", Self.package + "/scripts/dockerd-start.sh"], timeout: .seconds(120))
  }

  func dockerdPID() -> Int32? {
    (try? String(contentsOfFile: "/var/run/docker.pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  }

  /// The process is gone, or a zombie its parent has not reaped yet (PID 1
  /// may be slow to: `kill(pid, 0)` still succeeds then).
  func exited(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    // pid (comm) state …: the state follows the last ')'.
    return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
  }

  func eventually(_ what: String, within seconds: Double, _ check: () throws -> Bool) throws {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if try check() { return }
      Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("gave up waiting (\(seconds) s) for \(what)")
    throw XCTSkip("failed above: \(what)")
  }

  func testDockerdKilledMidApplyGivesOneErrorAndTheNextApplyRepairs() async throws {
    // One instance at a time, each healthy only after a second: the apply is
    // still running when the first container exists.
    try """
    fixture: \(fixture)
    groups:
      node:
        image: cthulhu-test:latest
        count: 5
        command: ["/bin/sh", "-c", "sleep 1; touch /tmp/ready; exec sleep 3600"]
        healthcheck: { command: ["test", "-f", "/tmp/ready"], interval: 200ms, retries: 50 }
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Harness.binary)
    p.arguments = ["apply", "--parallel", "1"]
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    let errFile = dir + "/apply.err"
    _ = FileManager.default.createFile(atPath: errFile, contents: nil)
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
    p.standardOutput = FileHandle.nullDevice
    try p.run()

    try eventually("the first container of the apply", within: 30) {
      (try? FixtureState.load(root: root))??.instances.contains { $0.containerID != nil } == true
    }
    orphaned = Set((try FixtureState.load(root: root))?.instances.compactMap(\.containerID) ?? [])
    let daemon = try XCTUnwrap(dockerdPID(), "no /var/run/docker.pid")
    kill(daemon, SIGKILL)  // gone at once, as a crashed or OOM-killed daemon
    try eventually("the apply to end", within: 90) { !p.isRunning }
    try eventually("dockerd to exit", within: 60) { exited(daemon) }

    let err = try String(contentsOfFile: errFile, encoding: .utf8)
    XCTAssertEqual(p.terminationStatus, 1, err)
    let errors = err.split(separator: "\n").filter { $0.hasPrefix("error:") }
    XCTAssertEqual(errors.count, 1, "one error line, not one per step:\n\(err)")
    XCTAssertTrue(err.contains("/var/run/docker.sock"), "the error names the engine's socket:\n\(err)")
    XCTAssertFalse(err.contains("Fatal error") || err.contains("Stack dump"), err)
    let state = try XCTUnwrap(try FixtureState.load(root: root), "the state is whole after the engine went away")
    XCTAssertFalse(state.instances.isEmpty)

    // While the engine is down: one clear line, nothing changes.
    let down = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(down.status, 1)
    XCTAssertTrue(down.stderr.contains("/var/run/docker.sock"), down.stderr)

    let up = try await startEngine()
    XCTAssertEqual(up.status, 0, String(decoding: up.stderr, as: UTF8.self))
    orphaned.formUnion(try containerIDs(fixture: fixture, root: root))
    var r = try Harness.cthulhu(["apply"], in: dir)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    r = try Harness.cthulhu(["plan", "--detailed-exitcode"], in: dir)
    XCTAssertEqual(r.status, 0, "converged once the engine is back: " + r.stdout)
    r = try Harness.cthulhu(["status", "--json"], in: dir)
    let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    XCTAssertEqual(rows.count, 5)
    XCTAssertEqual(rows.filter { $0["state"] as? String == "running" }.count, 5, r.stdout)
    r = try Harness.cthulhu(["destroy"], in: dir)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(try leftovers(fixture: fixture), "", "destroy left something")
  }

  // MARK: - Issue 13: a kill anywhere in an apply, repaired by one apply

  /// dockerd SIGKILLed 20 times, at moments spread from 0.2 s to 2.5 s into
  /// an apply of 6 instances (network create, container creates, starts,
  /// or after), and started again: each time ONE apply converges (exit 0,
  /// no "connection refused", all 6 running, a second plan has no change),
  /// and destroy leaves no container or network.
  func testKillsAnywhereInAnApplyAreRepairedByOneApply() async throws {
    let trials = 20
    var converged = 0
    var lines: [String] = []
    for n in 0..<trials {
      let t = try await trial(n, killAfter: .milliseconds(200 + 2300 * n / (trials - 1)))
      if t.converged { converged += 1 }
      lines.append(t.summary)
      print("engine-restart " + t.summary)
    }
    XCTAssertEqual(converged, trials, "converged after one apply:\n" + lines.joined(separator: "\n"))
  }

  struct Trial {
    var converged: Bool
    var summary: String
  }

  /// One kill: an apply of 6 started, dockerd SIGKILLed `delay` after, started again, one apply, checks, destroy.
  func trial(_ n: Int, killAfter delay: Duration) async throws -> Trial {
    let folder = dir + "/t\(n)"
    let root = folder + "/cthulhu-fixture"
    let name = "\(fixture)-\(n)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    try """
    fixture: \(name)
    groups:
      node:
        image: cthulhu-test:latest
        count: 6
        # Ends on SIGTERM (a bare sleep as PID 1 ignores it): the restarted
        # engine stops the killed daemon's containers at once, not after a timeout.
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
        stop_timeout: 1s

    """.write(toFile: folder + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Harness.binary)
    p.arguments = ["apply"]
    p.currentDirectoryURL = URL(fileURLWithPath: folder)
    let errFile = folder + "/apply.err"
    _ = FileManager.default.createFile(atPath: errFile, contents: nil)
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
    p.standardOutput = FileHandle.nullDevice
    let clock = ContinuousClock()
    let t0 = clock.now
    try p.run()
    // However this trial ends, its apply does not outlive it.
    defer {
      if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
      }
    }
    // The moment of the kill is what each trial varies: a set delay, not a wait for something.
    try await Task.sleep(until: t0 + delay, clock: clock)
    let finishedFirst = !p.isRunning
    let made = (try? FixtureState.load(root: root))??.instances.filter { $0.containerID != nil }.count ?? 0
    let daemon = try XCTUnwrap(dockerdPID(), "no /var/run/docker.pid")
    kill(daemon, SIGKILL)
    try eventually("the apply to end", within: 90) { !p.isRunning }
    try eventually("dockerd to exit", within: 60) { exited(daemon) }
    let killedSaid = (try String(contentsOfFile: errFile, encoding: .utf8)).split(separator: "\n").first { $0.hasPrefix("error:") }
    XCTAssertFalse((try String(contentsOfFile: errFile, encoding: .utf8)).contains("Fatal error"))

    let up = try await startEngine()
    guard up.status == 0 else {
      // The engine did not come back: no apply can say more, and no further trial can run.
      XCTFail("trial \(n): dockerd did not start again: " + String(decoding: up.stderr, as: UTF8.self))
      throw XCTSkip("failed above: dockerd did not start again")
    }
    let restarts = String(decoding: up.stderr, as: UTF8.self).split(separator: "\n").filter { $0.contains("exited before answering") }
    var ids = try containerIDs(fixture: name, root: root)
    orphaned.formUnion(ids)

    let t1 = clock.now
    let repair = try Harness.cthulhu(["apply"], in: folder)
    let took = clock.now - t1
    var ok = repair.status == 0
    XCTAssertEqual(repair.status, 0, "trial \(n): the first apply after the restart:\n" + repair.stdout + repair.stderr)
    XCTAssertFalse(repair.stderr.contains("connection refused"), "trial \(n): " + repair.stderr)
    ok = ok && !repair.stderr.contains("connection refused")
    let remakes = repair.stdout.split(separator: "\n").filter { $0.hasSuffix("made a new one") }
    let plan = try Harness.cthulhu(["plan", "--detailed-exitcode"], in: folder)
    XCTAssertEqual(plan.status, 0, "trial \(n): a second plan has no change:\n" + plan.stdout + plan.stderr)
    let status = try Harness.cthulhu(["status", "--json"], in: folder)
    let rows = (try? JSONSerialization.jsonObject(with: Data(status.stdout.utf8))) as? [[String: Any]] ?? []
    let running = rows.filter { $0["state"] as? String == "running" }.count
    XCTAssertEqual(running, 6, "trial \(n): " + status.stdout + status.stderr)
    ok = ok && plan.status == 0 && running == 6

    ids.formUnion(try containerIDs(fixture: name, root: root))
    orphaned.formUnion(ids)
    let destroy = try Harness.cthulhu(["destroy"], in: folder)
    XCTAssertEqual(destroy.status, 0, "trial \(n): " + destroy.stderr)
    let left = try leftovers(fixture: name)
    XCTAssertEqual(left, "", "trial \(n): destroy left something")
    if destroy.status != 0 || !left.isEmpty {
      let net = try Harness.run("/bin/sh", ["-c", "docker network inspect cthulhu-\(name)"], env: ["DOCKER_API_VERSION": "1.41"])
      print("trial \(n): the repair apply said:\n\(repair.stdout)\nthe network:\n\(net.stdout)\(net.stderr)")
    }
    ok = ok && destroy.status == 0 && left.isEmpty
    killShims(of: ids)

    let at = String(format: "%.2f", Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
    let before = finishedFirst ? "the apply had finished" : "\(made)/6 containers recorded"
    let said = killedSaid.map { String($0) } ?? "exit \(p.terminationStatus), no error"
    var summary = "trial \(n): kill at \(at) s (\(before)); killed apply: \(said); "
    if !restarts.isEmpty { summary += "dockerd started \(restarts.count + 1) times (\(restarts.joined(separator: " | "))); " }
    summary += "repair apply exit \(repair.status) in \(took), "
    summary += "\(remakes.count) remade\(remakes.isEmpty ? "" : ": " + remakes.joined(separator: " | ")); \(ok ? "converged" : "NOT converged")"
    return Trial(converged: ok, summary: summary)
  }
}

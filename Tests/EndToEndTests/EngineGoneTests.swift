import Foundation
import Manifest
@testable import Orchestrator
import TestSupport
import XCTest

/// The engine going away mid-apply (issue #7): dockerd is killed while an
/// apply runs; the apply ends with one clear error and a whole state, and the
/// next apply, once the daemon is back, converges.
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
  /// Containers that ran when the daemon was killed.
  var orphaned: [String] = []

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
    // The killed daemon's leftovers, not cthulhu's: the containerd shims of
    // the containers that ran then outlive their containers' removal.
    for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap({ Int32($0) }) ?? [] {
      let cmd = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
      if cmd.hasPrefix("/usr/bin/containerd-shim"), orphaned.contains(where: { cmd.contains("-id\u{0}" + $0) }) { kill(pid, SIGKILL) }
    }
    try? FileManager.default.removeItem(atPath: dir)
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
    FileManager.default.createFile(atPath: errFile, contents: nil)
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
    p.standardOutput = FileHandle.nullDevice
    try p.run()

    try eventually("the first container of the apply", within: 30) {
      (try? FixtureState.load(root: root))??.instances.contains { $0.containerID != nil } == true
    }
    orphaned = (try FixtureState.load(root: root))?.instances.compactMap(\.containerID) ?? []
    let daemon = try XCTUnwrap(dockerdPID(), "no /var/run/docker.pid")
    kill(daemon, SIGKILL)  // gone at once, as a crashed or OOM-killed daemon
    try eventually("the apply to end", within: 90) { !p.isRunning }
    try eventually("dockerd to exit", within: 60) { kill(daemon, 0) != 0 }

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
    let left = try Harness.run(
      "/bin/sh", ["-c", "docker ps -aq --filter label=\(Labels.fixture)=\(fixture); docker network ls -q --filter label=\(Labels.fixture)=\(fixture)"],
      env: ["DOCKER_API_VERSION": "1.41"])
    XCTAssertEqual(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "destroy left something")
  }
}

import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// `FixtureController` used from Swift, as the README's "From Swift" shows,
/// given the built `cthulhu` as its ``CthulhuExecutable``: the control shims
/// and the detached helpers (`--for` reaper, time to live) run cthulhu,
/// never the program that calls the library (here the test runner).
final class LibraryExecutableTests: FixtureTestCase {
  var executable: CthulhuExecutable { CthulhuExecutable(path: Host.cthulhuBinary) }

  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("libx")
  }

  func load(mode: String) throws -> Manifest {
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: \(mode) }
    groups:
      node:
        count: 2
        command: ["\(Host.busybox)", "sleep", "600"]
        stop_timeout: 1s
    nemesis:
      faults:
        - { kill: i001, after: 200ms, for: 500ms }

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    return try ManifestLoader.load(path: dir + "/cthulhu.yaml")
  }

  /// The program a helper process runs (its argv[0]).
  func program(of pid: Int32?) -> String? {
    guard let pid, let argv = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
    return argv.split(separator: 0).first.map { String(decoding: $0, as: UTF8.self) }
  }

  func testTheControlShimsAndTheTimeToLiveRunTheGivenCthulhu() async throws {
    let m = try load(mode: "loopback")
    let cthulhu = FixtureController(driver: ProcessDriver(), executable: executable)
    var options = ApplyOptions()
    options.ttl = .seconds(600)
    let result = try await cthulhu.apply(try await cthulhu.plan(m), options: options)
    XCTAssertTrue(result.failures.isEmpty, "\(result.failures)")
    XCTAssertEqual(result.state.binary, Host.cthulhuBinary)
    XCTAssertEqual(program(of: result.state.ttlReaperPID), Host.cthulhuBinary, "the time to live's reaper")
    // The shim runs cthulhu: `status` lists the instance (the test runner would not).
    let status = try Host.run(root + "/i001/control", ["status"], env: ["CTHULHU_BIN": ""])
    XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
    XCTAssertTrue(status.stdout.contains("i001") && status.stdout.contains("running"), status.stdout)
    let shim = try String(contentsOfFile: root + "/i001/control", encoding: .utf8)
    XCTAssertTrue(shim.contains("bin=${CTHULHU_BIN:-'\(Host.cthulhuBinary)'}"), shim)
    let report = try await cthulhu.destroy(root: m.root)
    XCTAssertEqual(report.containers.count, 2)
    XCTAssertEqual(Host.processes(fixture: fixture), [])
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
  }

  func testAFaultWithADurationIsLiftedByTheGivenCthulhu() async throws {
    try Host.requireRoot()
    let m = try load(mode: "namespaces")
    let cthulhu = FixtureController(driver: ProcessDriver(), executable: executable)
    let result = try await cthulhu.apply(try await cthulhu.plan(m))
    XCTAssertTrue(result.failures.isEmpty, "\(result.failures)")
    let fault = try await cthulhu.inject(.isolate(["i001"]), root: m.root, lasting: .seconds(1))
    XCTAssertNotNil(fault.expiresAt)
    let reaper = try XCTUnwrap(fault.reaperPID)
    let runs = program(of: reaper)
    // A reaper that already lifted the fault and exited has no command line left to read.
    if let runs { XCTAssertEqual(runs, Host.cthulhuBinary, "the --for reaper") }
    let deadline = ContinuousClock.now + .seconds(20)
    while try !cthulhu.faults(root: m.root).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
    XCTAssertEqual(try cthulhu.faults(root: m.root), [], "the reaper did not lift the fault within 20 s")
    let events = try String(contentsOfFile: m.root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("expire \(fault.id)"), events)
    _ = try await cthulhu.destroy(root: m.root)
    XCTAssertEqual(Host.processes(fixture: fixture), [])
  }

  func testWithoutAnExecutableAFaultWithADurationOrANemesisChangesNothing() async throws {
    let m = try load(mode: "loopback")
    let given = FixtureController(driver: ProcessDriver(), executable: executable)
    _ = try await given.apply(try await given.plan(m))
    let bare = FixtureController(driver: ProcessDriver())
    do {
      _ = try await bare.inject(.isolate(["i001"]), root: m.root, lasting: .seconds(1))
      XCTFail("a fault with a duration was put in force with no cthulhu to lift it")
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .noExecutable, e.message)
    }
    XCTAssertEqual(try bare.faults(root: m.root), [])
    do {
      _ = try await bare.startNemesis(try XCTUnwrap(m.nemesis), root: m.root)
      XCTFail("a nemesis was started with no cthulhu to run it")
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .noExecutable, e.message)
      XCTAssertTrue(e.message.contains("nemesis start"), e.message)
    }
    XCTAssertNil(try NemesisRecord.load(root: m.root), "a nemesis was recorded")
    let reapers = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init)
      .filter { HelperProcess.isRunning(pid: $0, .reaper, root: m.root) }
    XCTAssertEqual(reapers, [], "a reaper was started")
    _ = try await given.destroy(root: m.root)
  }
}

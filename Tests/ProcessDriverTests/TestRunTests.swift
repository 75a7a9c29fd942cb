import Foundation
import TestSupport
import XCTest

/// `cthulhu test` end to end on the process driver in loopback mode (no
/// root): the fixture applied first, a register client in shell, the
/// nemesis killing an instance during the run and healed after, the run
/// folder and the exit codes; Ctrl-C stops cleanly.
final class TestRunTests: FixtureTestCase {
  /// A register over a file: read prints it, write replaces it (a rename,
  /// so a concurrent read never sees it half-written). With
  /// `LIE=1` a read answers a value never written.
  static let client = """
    #!/bin/sh
    f="$CTHULHU_FIXTURE/register"
    while read -r line; do
      case "$line" in
        *'"read"'*)
          if [ -n "$LIE" ]; then v=99; else v=$(cat "$f" 2>/dev/null || echo null); fi
          echo "{\\"type\\": \\"ok\\", \\"value\\": $v}" ;;
        *'"write"'*) v=${line##*\\"value\\": }; v=${v%\\}}; echo "$v" > "$f.$$" && mv "$f.$$" "$f"; echo '{"type": "ok"}' ;;
        *) echo '{"type": "fail", "error": "unsupported"}' ;;
      esac
    done
    """

  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("testrun")
    try Self.client.write(toFile: dir + "/register.sh", atomically: true, encoding: .utf8)
    chmod(dir + "/register.sh", 0o755)
  }

  /// `faultFor`: how long the nemesis's kill lasts (the nemesis runs that long and more).
  func write(timeLimit: String = "2s", env: String = "", faultFor: String = "500ms") throws {
    try """
    fixture: \(fixture)
    driver: process
    groups:
      node:
        count: 2
        command: ["\(Host.busybox)", "sleep", "600"]
        stop_timeout: 1s
    nemesis:
      faults:
        - { kill: i001, after: 200ms, for: \(faultFor) }
    workloads:
      reg:
        client: { command: ["/bin/sh", "-c", "\(env)exec ./register.sh"] }
        generator: register
        concurrency: 3
        rate: 300/s
        time_limit: \(timeLimit)
        final_wait: 100ms

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  enum RunFolderCount {
    static func `in`(_ root: String) -> Int {
      ((try? FileManager.default.contentsOfDirectory(atPath: root + "/runs")) ?? []).filter { $0 != "latest" && !$0.hasPrefix(".") }.count
    }
  }

  func results() throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: root + "/runs/latest/results.json"))
    return try JSONSerialization.jsonObject(with: data) as! [String: Any]
  }

  func testAValidRunAppliesTheFixtureRunsTheNemesisAndWritesItsFolder() throws {
    try write()
    let r = try cthulhu("test", "--seed", "5")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("reg: valid (register), seed 5"), r.stdout)
    let json = try results()
    XCTAssertEqual(json["valid"] as? Bool, true)
    XCTAssertEqual(json["interrupted"] as? Bool, false)
    let faults = try XCTUnwrap(json["faults"] as? [[String: Any]])
    XCTAssertEqual(faults.count, 1, "\(faults)")
    XCTAssertTrue((faults.first?["name"] as? String)?.contains("i001") == true, "\(faults)")
    let counts = try XCTUnwrap(json["counts"] as? [String: [String: Int]])
    XCTAssertGreaterThan(counts["read"]?["ok"] ?? 0, 100, "\(counts)")
    for file in ["history.jsonl", "events.jsonl", "junit.xml", "manifest.yaml", "plan.json", "clients/worker-00.log"] {
      XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/runs/latest/" + file), file)
    }
    let events = try String(contentsOfFile: root + "/runs/latest/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("nemesis fault 1.1"), events)
    XCTAssertTrue(events.contains("nemesis heal 1.1"), events)
    // The same steps in the history, as operations of the nemesis; the fault period is the kill's ok to its heal's.
    let nemesis = try nemesisOps()
    XCTAssertEqual(
      nemesis.map { "\($0["type"] ?? "") \($0["f"] ?? "")" }, ["invoke kill", "ok kill", "invoke heal", "ok heal", "invoke heal", "ok heal"])
    let origin = try XCTUnwrap(json["monotonicStartNs"] as? NSNumber).doubleValue
    let at = { (i: Int) in (((nemesis[i]["time"] as? NSNumber)?.doubleValue ?? 0) - origin) / 1e9 }
    XCTAssertEqual(faults.first?["start"] as? Double ?? -1, at(1), accuracy: 0.001)
    XCTAssertEqual(faults.first?["end"] as? Double ?? -1, at(3), accuracy: 0.001)
    // Healed: both instances run again, and the nemesis holds nothing.
    let status = try mustSucceed("nemesis", "status")
    XCTAssertFalse(status.contains("In force"), status)
    // A second run gets its own folder; `runs` lists both. (The register
    // starts empty again: the history's model starts at null.)
    try FileManager.default.removeItem(atPath: root + "/register")
    XCTAssertEqual(try cthulhu("test", "--time-limit", "500ms").status, 0)
    let runs = try mustSucceed("runs")
    XCTAssertEqual(runs.split(separator: "\n").filter { $0.contains("valid") }.count, 2, runs)
    // The runs outlive a destroy, and the next test applies the fixture in the same root.
    try mustSucceed("destroy")
    XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/runs/latest/results.json"))
    try FileManager.default.removeItem(atPath: root + "/register")
    let after = try cthulhu("test", "--time-limit", "300ms")
    XCTAssertEqual(after.status, 0, after.stdout + after.stderr)
    XCTAssertEqual(RunFolderCount.in(root), 3)
  }

  /// The nemesis's lines of the last run's history.jsonl.
  func nemesisOps() throws -> [[String: Any]] {
    try String(contentsOfFile: root + "/runs/latest/history.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
      try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }.filter { $0["process"] as? String == "nemesis" }
  }

  func testAStaleReadExitsTwoAndARecheckWithAnotherModelLeavesTheRun() throws {
    try write(env: "LIE=1 ")
    let r = try cthulhu("test")
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("INVALID"), r.stdout)
    XCTAssertEqual(try results()["valid"] as? Bool, false)
    let again = try cthulhu("test", "--recheck", root + "/runs/latest", "--model", "no-such-model")
    XCTAssertEqual(again.status, 1, again.stdout + again.stderr)
    XCTAssertEqual(try results()["valid"] as? Bool, false, "the run's own results stay")
  }

  func testARunIsRefusedWhileANemesisRunsAndStartsNothing() throws {
    // A nemesis that runs for a minute: still running when `test` looks, however slow the machine.
    try write(faultFor: "60s")
    try mustSucceed("apply")
    try mustSucceed("nemesis", "start")
    let r = try cthulhu("test")
    XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
    XCTAssertTrue(r.stderr.contains("a nemesis already runs on this fixture"), r.stderr)
    XCTAssertEqual(RunFolderCount.in(root), 0, "no run folder")
    try mustSucceed("nemesis", "stop")
  }

  func testCtrlCStopsCleanlyHealsAndMarksTheRunInterrupted() async throws {
    try write(timeLimit: "5m")
    XCTAssertEqual(try cthulhu("apply").status, 0)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Host.cthulhuBinary)
    p.arguments = ["test"]
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    // Running, past the nemesis's kill.
    try await Host.eventually("operations recorded and the kill done", within: 20) {
      let events = (try? String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)) ?? ""
      let history = FileManager.default.contents(atPath: root + "/runs/latest/history.jsonl")?.count ?? 0
      return events.contains("nemesis fault 1.1") && history > 0
    }
    // The nemesis it drives in process is seen, and left to it.
    let run = "driven by `cthulhu test` of workload 'reg' (pid \(p.processIdentifier), run "
    let during = try mustSucceed("nemesis", "status")
    XCTAssertTrue(during.contains("nemesis running in process, " + run), during)
    let start = try cthulhu("nemesis", "start")
    XCTAssertEqual(start.status, 1, start.stdout + start.stderr)
    XCTAssertTrue(start.stderr.contains(run), start.stderr)
    let stop = try cthulhu("nemesis", "stop")
    XCTAssertEqual(stop.status, 1, stop.stdout + stop.stderr)
    XCTAssertTrue(stop.stderr.contains(run), stop.stderr)
    kill(p.processIdentifier, SIGINT)
    try await Host.eventually("cthulhu test ends", within: 20) { !p.isRunning }
    XCTAssertEqual(p.terminationStatus, 0, "what ran was valid")
    let json = try results()
    XCTAssertEqual(json["interrupted"] as? Bool, true)
    let status = try mustSucceed("nemesis", "status")
    XCTAssertFalse(status.contains("In force"), status)
    XCTAssertFalse(status.contains("in process"), status)
    XCTAssertEqual(try nemesisOps().first?["f"] as? String, "kill")
    XCTAssertEqual(try nemesisOps().last?["f"] as? String, "heal")
    XCTAssertTrue(Host.processes(fixture: fixture).count >= 2, "both instances run again")
  }
}

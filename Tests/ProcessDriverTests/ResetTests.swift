import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// `cthulhu reset` (issue 17) on host processes, with ProcessEndToEndTests'
/// fixture of busybox web servers: back to the applied state without a
/// destroy, and nothing else changed.
extension ProcessEndToEndTests {
  /// A partition, a kill, a pause and a hand-edited config, then reset:
  /// every instance runs, reaches every other, serves its rendered config,
  /// and kept its process where it was not stopped; data in var is kept.
  /// Then `--data` empties var and starts every instance anew.
  func testResetBringsBackAPartitionAKillAPauseAndAnEditedFile() async throws {
    try Host.requireRoot()
    try writeManifest(count: 3, mode: "namespaces")
    try mustSucceed("apply")
    let ip1 = try ip("i001")
    let config = root + "/\(ip1)/bindmounts/etc/config.json"
    let rendered = try String(contentsOfFile: config, encoding: .utf8)
    let data = root + "/\(try ip("i002"))/bindmounts/var/data.db"
    try "kept\n".write(toFile: data, atomically: true, encoding: .utf8)
    let p2 = try pid("i002")
    try mustSucceed("partition", "i001", "i002,i003")
    try mustSucceed("kill", "i003")
    try mustSucceed("pause", "i002")
    try "edited\n".write(toFile: config, atomically: true, encoding: .utf8)
    XCTAssertEqual(try states(), ["i001": "running", "i002": "paused", "i003": "exited"])

    let r = try cthulhu("reset")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Healed f1: partition {i001} | {i002,i003}"), r.stdout)
    XCTAssertTrue(r.stdout.contains("1 fault(s) healed, 0 var folder(s) emptied, 3 step(s)"), r.stdout)
    XCTAssertEqual(try states(), ["i001": "running", "i002": "running", "i003": "running"])
    XCTAssertEqual(try String(contentsOfFile: config, encoding: .utf8), rendered)
    XCTAssertEqual(try pid("i002"), p2, "a paused instance is thawed, not restarted")
    XCTAssertEqual(try String(contentsOfFile: data, encoding: .utf8), "kept\n")
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
    for (a, b) in [("i001", "i002"), ("i002", "i001"), ("i003", "i001"), ("i002", "i003")] { try await eventuallyReaches(a, b) }
    XCTAssertEqual(try cthulhu("plan", "--detailed-exitcode").status, 0, "reset leaves nothing for apply to do")
    XCTAssertEqual(try cthulhu("reset").stdout, "Nothing to reset: the fixture is as applied.\n")

    let d = try cthulhu("reset", "--data")
    XCTAssertEqual(d.status, 0, d.stdout + d.stderr)
    XCTAssertTrue(d.stdout.contains("Emptied var: i001 i002 i003"), d.stdout)
    XCTAssertFalse(FileManager.default.fileExists(atPath: data))
    XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/\(try ip("i002"))/bindmounts/var/i002.log"))
    XCTAssertNotEqual(try pid("i002"), p2)
    XCTAssertEqual(try ip("i001"), ip1)
    try await eventuallyReaches("i003", "i002")
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"action\":\"reset --data\""), events)
  }

  /// Reset goes back, never forward: a manifest changed since its apply is
  /// refused with the reason, and the fault in force stays in force.
  func testResetRefusesAManifestChangedSinceItsApplyAndChangesNothing() async throws {
    try Host.requireRoot()
    try writeManifest(count: 2, mode: "namespaces")
    try mustSucceed("apply")
    try mustSucceed("isolate", "i002")
    try writeManifest(count: 3, mode: "namespaces")
    let r = try cthulhu("reset")
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("changed since it was applied (i003 is new"), r.stderr)
    XCTAssertTrue(r.stderr.contains("run `cthulhu apply`"), r.stderr)
    XCTAssertEqual(try FaultBook.load(root: root).faults.map(\.kind), [.isolate])
    XCTAssertEqual(try states().count, 2)
  }

  /// Reset of some instances leaves the others as they are.
  func testResetOfNamedInstancesLeavesTheOthers() async throws {
    try writeManifest(count: 3, mode: "loopback")
    try mustSucceed("apply")
    try mustSucceed("stop", "i002", "i003")
    let r = try cthulhu("reset", "i002")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertEqual(try states(), ["i001": "running", "i002": "running", "i003": "exited"])
  }

  /// In namespaces mode an instance's namespace, and the rules in it,
  /// outlive its process: a fault lifted while it was stopped must not cut
  /// it off when it starts again.
  func testAFaultLiftedWhileAnInstanceIsStoppedIsGoneWhenItStarts() async throws {
    try Host.requireRoot()
    try writeManifest(count: 3, mode: "namespaces")
    try mustSucceed("apply")
    try mustSucceed("partition", "i001", "i002,i003")
    try mustSucceed("kill", "i002")
    try mustSucceed("heal")
    try mustSucceed("start", "i002")
    try await eventuallyReaches("i001", "i002")
    try await eventuallyReaches("i002", "i001")
    // And one set while it is stopped is in force when it starts.
    try mustSucceed("kill", "i002")
    try mustSucceed("isolate", "i002")
    try mustSucceed("start", "i002")
    XCTAssertFalse(try reaches("i001", "i002"))
    XCTAssertTrue(try reaches("i001", "i003"))
  }

  /// Heal leaves none of cthulhu's chains, jumps or qdiscs in a namespace,
  /// and keeps what is not cthulhu's (one listing, one `iptables-restore`;
  /// a second jump added by hand goes too).
  func testHealLeavesNoneOfCthulhusRulesAndKeepsOthers() async throws {
    try Host.requireRoot()
    try writeManifest(count: 2, mode: "namespaces")
    try mustSucceed("apply")
    func inNamespace(_ name: String, _ command: String) throws -> String {
      let ns = "/run/netns/" + Namespaces.namespace(fixture: fixture, instance: name)
      let r = try Host.run("/usr/bin/nsenter", ["--net=" + ns, "/bin/sh", "-c", command])
      XCTAssertEqual(r.status, 0, "\(command) in \(name): \(r.stderr)")
      return r.stdout
    }
    _ = try inNamespace("i001", "iptables -w -N MINE && iptables -w -A INPUT -j MINE && iptables -w -A MINE -p udp --dport 9 -j DROP")
    try mustSucceed("partition", "i001", "i002")
    try mustSucceed("rate", "1mbit", "i002")
    XCTAssertTrue(try inNamespace("i001", "iptables -w -S").contains("-A INPUT -j CTHULHU-IN"))
    XCTAssertTrue(try inNamespace("i002", "tc qdisc show").contains(" c7c7: "))
    _ = try inNamespace("i002", "iptables -w -A INPUT -j CTHULHU-IN")
    try mustSucceed("heal")
    for name in ["i001", "i002"] {
      let rules = try inNamespace(name, "iptables -w -S")
      XCTAssertFalse(rules.contains("CTHULHU"), "\(name) after heal:\n\(rules)")
      XCTAssertFalse(try inNamespace(name, "tc qdisc show").contains(" c7c7: "), "\(name) keeps cthulhu's qdisc")
    }
    let mine = try inNamespace("i001", "iptables -w -S")
    XCTAssertTrue(mine.contains("-A INPUT -j MINE") && mine.contains("-A MINE -p udp -m udp --dport 9 -j DROP"), mine)
    try await eventuallyReaches("i001", "i002")
  }
}

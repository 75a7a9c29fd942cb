import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `partition: cut` with targets a command chooses, through the built
/// binary, on three busybox web servers in network namespaces (root): the
/// instance the command prints cannot reach its peers nor they it, while the
/// host still reaches it; a command that prints an unknown name fails its
/// occurrence with the reason, and the schedule goes on.
final class NemesisCutTests: FixtureTestCase {
  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.requireRoot()
    try makeFolder("cut")
    try FileManager.default.createDirectory(atPath: dir + "/www", withIntermediateDirectories: true)
    try "hello\n".write(toFile: dir + "/www/index.html", atomically: true, encoding: .utf8)
    // "The current primary": here the instance named in a file the test writes.
    try "#!/bin/sh\ntest -f \"$CTHULHU_SPEC\" || exit 9\ncat primary.txt\n".write(toFile: dir + "/primary.sh", atomically: true, encoding: .utf8)
    chmod(dir + "/primary.sh", 0o755)
    try "i002\n".write(toFile: dir + "/primary.txt", atomically: true, encoding: .utf8)
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: namespaces }
    groups:
      node:
        count: 3
        command: ["\(Host.busybox)", "sh", "-c", "exec \(Host.busybox) httpd -f -p \\"$CTHULHU_IP:8080\\" -h \(dir)/www"]
        stop_timeout: 1s
    nemesis:
      faults:
        - partition: cut
          targets: { command: [./primary.sh] }
          for: 1m
        - kill: { command: [/bin/echo, redis-2] }
          after: 200ms
          for: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    _ = try? cthulhu("nemesis", "stop")
    try await super.tearDown()
  }

  /// `from` (an instance, or nil for the host) gets `to`'s index.html within two seconds.
  func reaches(_ from: String?, _ to: String) throws -> Bool {
    let get = "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | \(Host.busybox) timeout 2 \(Host.busybox) nc -w 1 \(try ip(to)) 8080"
    let out = try from.map { try cthulhu("exec", "--fixture", root, $0, "--", Host.busybox, "sh", "-c", get).stdout } ?? Host.sh(get).stdout
    return out.contains("hello")
  }

  func testTheChosenInstanceIsCutFromItsPeersWhileTheHostStillReachesIt() async throws {
    let plan = try mustSucceed("plan")
    XCTAssertTrue(plan.contains("1. partition cut on command \(dir)/primary.sh: at 0s for 1m"), plan)
    XCTAssertTrue(plan.contains("1.1  partition (cut) {‹primary.sh›} from the other instances"), plan)
    try mustSucceed("apply")
    XCTAssertTrue(try reaches("i001", "i002"))
    try mustSucceed("nemesis", "start")
    try await Host.eventually("the cut is in force and the bad command has failed", within: 15) {
      let done = try FixtureController.nemesisStatus(root: self.root)?.record.done ?? []
      return done.contains { $0.label == "1.1" } && done.contains { $0.label == "2.1" }
    }
    let done = try XCTUnwrap(FixtureController.nemesisStatus(root: root)?.record.done)
    let cut = try XCTUnwrap(done.first { $0.label == "1.1" })
    XCTAssertEqual(cut.outcome, "ok", cut.error ?? "")
    XCTAssertEqual(cut.targets, ["i002"])
    let faults = try FaultBook.load(root: root).faults
    XCTAssertEqual(faults.map(\.summary), ["partition {i002} | {i001,i003}"])

    XCTAssertFalse(try reaches("i002", "i001"), "the chosen instance cannot reach a peer")
    XCTAssertFalse(try reaches("i003", "i002"), "nor a peer it")
    XCTAssertTrue(try reaches("i001", "i003"), "the others still talk")
    XCTAssertTrue(try reaches(nil, "i002"), "the host (the clients) still reaches it")

    let bad = try XCTUnwrap(done.first { $0.label == "2.1" })
    XCTAssertEqual(bad.outcome, "failed")
    XCTAssertEqual(
      bad.error,
      "the targets command of nemesis fault 2 (`/bin/echo redis-2`) printed 'redis-2', which is no instance of the fixture (it has i001, i002, i003)")
    let logged = EventLog(root: root).read().filter { $0.action == "nemesis fault 2.1" }
    XCTAssertEqual(logged.count, 1)
    XCTAssertTrue(logged[0].outcome.hasPrefix("failed: the targets command of nemesis fault 2"), logged[0].outcome)
    XCTAssertEqual(try FixtureController.nemesisStatus(root: root)?.running, true, "the schedule goes on")

    try mustSucceed("nemesis", "stop")
    XCTAssertEqual(try FaultBook.load(root: root).faults, [])
    XCTAssertTrue(try reaches("i002", "i001"))
  }
}

import Foundation
import Glibc
import Orchestrator
import TestSupport
import XCTest

/// `disk error`, `disk delay`, `disk corrupt` and `disk status` on a
/// fixture whose layers run (loopback, process driver): the rules reach the
/// instance's mount, are in the fault book, lifted by `heal`, `heal fN` and
/// `--for`, put back into a layer made anew; corruption is of stopped
/// instances only. Needs root and /dev/fuse.
final class DiskFaultCommandTests: DiskFixtureTestCase {
  func status(_ args: String...) throws -> [InstanceControl.DiskLayerState] {
    let r = try Host.run(Host.cthulhuBinary, ["disk", "status", "--json"] + args, in: dir)
    XCTAssertEqual(r.status, 0, r.stderr)
    return try JSONDecoder().decode([InstanceControl.DiskLayerState].self, from: Data(r.stdout.utf8))
  }

  func book() throws -> [Fault] { try FaultBook.load(root: root).faults }

  func testAnErrorFailsWritesUnderItsPathOnItsInstanceUntilHealed() async throws {
    try mustSucceed("apply")
    let one = try layer("i001")
    let two = try layer("i002")
    for l in [one, two] { XCTAssertEqual(mkdir(l.mountPoint + "/wal", 0o755), 0) }

    let out = try mustSucceed("disk", "error", "ENOSPC", "i001", "--ops", "write", "--path", "^/wal/")
    XCTAssertEqual(out, "f1: disk error ENOSPC write ^/wal/ i001\n")
    XCTAssertEqual(writeErrno("x", to: one.mountPoint + "/wal/1.log"), ENOSPC)
    XCTAssertEqual(writeErrno("x", to: one.mountPoint + "/other"), 0, "a path the rule does not match")
    XCTAssertEqual(writeErrno("x", to: two.mountPoint + "/wal/1.log"), 0, "i002 has no fault")
    XCTAssertTrue(try mustSucceed("faults").contains("disk error ENOSPC write ^/wal/ i001"))

    // Its counts, by layer.
    let rules = try XCTUnwrap(try status("i001").first?.status).rules
    XCTAssertEqual(rules.map(\.rule.path), ["^/wal/"])
    XCTAssertGreaterThanOrEqual(rules[0].failed, 1)
    XCTAssertGreaterThanOrEqual(rules[0].matched, rules[0].failed)
    XCTAssertEqual(try status("i002").first?.status?.rules, [])
    let text = try mustSucceed("disk", "status", "i001")
    XCTAssertTrue(text.contains("i001/data: running") && text.contains("  f1: error ENOSPC write ^/wal/: matched"), text)
    XCTAssertEqual(try status("i001").first?.faults, ["f1"])
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"action\":\"disk f1\"") && events.contains("\"fault\":\"f1\""), events)

    // From i002's own control script: the fault is on i002 alone.
    XCTAssertEqual(try Host.run(root + "/i002/control", ["disk", "error", "EIO", "--ops", "write"]).status, 0)
    XCTAssertEqual(try book().map(\.summary), ["disk error ENOSPC write ^/wal/ i001", "disk error EIO write i002"])
    XCTAssertEqual(writeErrno("x", to: two.mountPoint + "/other"), EIO)

    let json = try mustSucceed("faults", "--json")
    XCTAssertTrue(json.contains("\"diskRule\"") && json.contains("\"errno\" : \"ENOSPC\""), json)
    let unknown = try cthulhu("heal", "f9")
    XCTAssertNotEqual(unknown.status, 0)
    XCTAssertTrue(unknown.stderr.contains("no fault f9 is in force"), unknown.stderr)
    XCTAssertEqual(try book().count, 2, "a refused heal lifted something")
    XCTAssertEqual(try mustSucceed("heal", "f1"), "healed; lifted f1\n")
    XCTAssertEqual(writeErrno("x", to: one.mountPoint + "/wal/1.log"), 0)
    XCTAssertEqual(try status("i001").first?.status?.rules, [])
    XCTAssertEqual(writeErrno("x", to: two.mountPoint + "/other"), EIO, "healing f1 left f2")
    try mustSucceed("heal")
    XCTAssertEqual(writeErrno("x", to: two.mountPoint + "/other"), 0)
    XCTAssertEqual(try mustSucceed("faults"), "No faults.\n")
  }

  func testARuleOnAnInstanceWithoutLayerOrABadRuleIsRefusedAndChangesNothing() async throws {
    try mustSucceed("apply")
    for args in [
      ["disk", "error", "ENOSPC", "i001,i003"], ["disk", "error", "ENOSPC", "i001", "--mount", "var"], ["disk", "error", "EFOO", "i001"],
      ["disk", "delay", "50ms", "i001", "--ops", "frob"], ["disk", "delay", "50ms", "i001", "--path", "("],
      ["disk", "error", "EIO", "i001", "--percent", "120"], ["disk", "error", "EIO"],
    ] {
      let r = try Host.run(Host.cthulhuBinary, args, in: dir)
      XCTAssertNotEqual(r.status, 0, "\(args) was not refused")
      XCTAssertFalse(r.stderr.isEmpty, "\(args) was refused without a word")
    }
    let r = try cthulhu("disk", "error", "ENOSPC", "i001,i003")
    XCTAssertTrue(r.stderr.contains("instance i003 has no mount with faults: true"), r.stderr)
    XCTAssertEqual(try book(), [])
    XCTAssertEqual(try status().compactMap(\.status).flatMap(\.rules), [], "a refused fault reached a layer")

    // A group; a share drawn from a seed, mixed with each layer's, so the two draw apart.
    XCTAssertEqual(
      try mustSucceed("disk", "delay", "50ms", "store", "--ops", "fsync", "--percent", "30", "--seed", "9"),
      "f1: disk delay 50ms fsync 30% seed 9 i001,i002\n")
    let seeds = try status().compactMap { $0.status?.rules.first?.rule.seed }
    XCTAssertEqual(seeds.count, 2)
    XCTAssertNotEqual(seeds[0], seeds[1])
  }

  func testForLiftsItselfADelayIsWaitedOutAndALayerMadeAnewGetsItsRulesBack() async throws {
    try mustSucceed("apply")
    let one = try layer("i001")
    let two = try layer("i002")

    XCTAssertTrue(try mustSucceed("disk", "error", "EIO", "i001", "--ops", "write", "--for", "1s").hasPrefix("f1: disk error EIO write i001 (until "))
    XCTAssertEqual(writeErrno("x", to: one.mountPoint + "/f"), EIO)
    try await Host.eventually("--for 1s lifted the error by itself") { self.writeErrno("x", to: one.mountPoint + "/f") == 0 }
    try await Host.eventually("the reaper emptied the book") { (try? self.book().isEmpty) ?? false }

    XCTAssertEqual(try mustSucceed("disk", "delay", "200ms", "i002", "--ops", "fsync", "--mount", "data"), "f2: disk delay 200ms fsync i002/data\n")
    let fd = open(two.mountPoint + "/slow", O_WRONLY | O_CREAT, 0o644)
    XCTAssertGreaterThanOrEqual(fd, 0)
    let start = ContinuousClock.now
    XCTAssertEqual(fsync(fd), 0)
    XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(200))
    close(fd)
    XCTAssertEqual(try status("i002").first?.status?.rules.first?.delayed, 1)

    // The layer's daemon dies; apply makes it anew, and the book's rule is back in it.
    let pid = try XCTUnwrap(layers.running(two))
    kill(pid, SIGKILL)
    try await Host.eventually("the killed daemon is gone") { !HelperProcess.isAlive(pid) }
    XCTAssertEqual(try status("i002").first?.running, false)
    let dead = try cthulhu("disk", "error", "EIO", "i002")
    XCTAssertNotEqual(dead.status, 0)
    XCTAssertTrue(dead.stderr.contains("the disk layer of i002's mount 'data' is not running"), dead.stderr)
    XCTAssertEqual(try book().map(\.id), ["f2"], "a refused fault was recorded")
    try mustSucceed("apply")
    let rules = try XCTUnwrap(try status("i002").first?.status).rules
    XCTAssertEqual(rules.map(\.rule.action), [.delay(.milliseconds(200))])
    XCTAssertEqual(rules.first?.matched, 0, "the rule was set anew")

    XCTAssertEqual(try mustSucceed("heal", "i002"), "healed i002; lifted f2\n")
    XCTAssertEqual(try status("i002").first?.status?.rules, [])
  }

  /// A nemesis `disk_error` step puts the rule in force on its targets and
  /// lifts it when the step ends; its fault and heal are in events.jsonl.
  func testTheNemesisFailsWritesAndLiftsTheRule() async throws {
    let manifest = try String(contentsOfFile: dir + "/cthulhu.yaml", encoding: .utf8)
    try
      (manifest + """
        nemesis:
          faults:
            - disk_error: ENOSPC
              targets: i001
              ops: [write]
              path: ^/wal/
              after: 100ms
              for: 2s

        """).write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
    let one = try layer("i001")
    XCTAssertEqual(mkdir(one.mountPoint + "/wal", 0o755), 0)
    let started = try mustSucceed("nemesis", "start")
    XCTAssertTrue(started.contains("disk error ENOSPC write ^/wal/ i001"), started)
    try await Host.eventually("the step fails i001's writes under /wal") { self.writeErrno("x", to: one.mountPoint + "/wal/1") == ENOSPC }
    XCTAssertTrue(try mustSucceed("faults").contains("disk error ENOSPC write ^/wal/ i001 (nemesis)"))
    try await Host.eventually("the step ends and the writes succeed", within: 15) { self.writeErrno("x", to: one.mountPoint + "/wal/1") == 0 }
    // The layer's rule goes before the nemesis writes its heal.
    try await Host.eventually("the nemesis recorded its fault and heal") {
      let events = try String(contentsOfFile: self.root + "/events.jsonl", encoding: .utf8)
      return events.contains("\"action\":\"nemesis fault 1.1\"") && events.contains("\"action\":\"nemesis heal 1.1\"")
    }
    try mustSucceed("nemesis", "stop")
    XCTAssertEqual(try mustSucceed("faults"), "No faults.\n")
    XCTAssertEqual(try status("i001").first?.status?.rules, [])
  }

  func testCorruptRefusesARunningInstanceAndFlipsExactlyNBitsOfAStoppedOnesFile() async throws {
    try mustSucceed("apply")
    let one = try layer("i001")
    let bytes = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    try Data(bytes).write(to: URL(fileURLWithPath: one.mountPoint + "/table.bin"))

    let running = try cthulhu("disk", "corrupt", "i001", "--path", "^/table\\.bin$", "--bitflip", "3", "--seed", "7")
    XCTAssertNotEqual(running.status, 0)
    XCTAssertTrue(running.stderr.contains("i001 is running"), running.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: one.backing + "/table.bin")), Data(bytes))

    try mustSucceed("stop", "i001")
    let out = try mustSucceed("disk", "corrupt", "i001", "--path", "^/table\\.bin$", "--bitflip", "3", "--seed", "7")
    XCTAssertTrue(out.hasPrefix("disk corrupt --seed 7: 1 layer(s)\n"), out)
    XCTAssertTrue(out.contains("i001/data: /table.bin: 3 bit(s) flipped"), out)
    let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: one.backing + "/table.bin")))
    XCTAssertEqual(after.count, bytes.count)
    XCTAssertEqual(zip(after, bytes).reduce(0) { $0 + ($1.0 ^ $1.1).nonzeroBitCount }, 3)
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"kind\":\"disk corrupt\""), events)

    // Drawn when not given, and said; a cut of the end.
    XCTAssertTrue(try mustSucceed("disk", "corrupt", "i001", "--path", "^/table", "--bitflip", "1").contains("(drawn)"))
    XCTAssertTrue(try mustSucceed("disk", "corrupt", "i001", "--path", "^/table", "--truncate", "96").contains("96 byte(s) from 4000 cut"))
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: one.backing + "/table.bin")).count, 4000)
    let cut = [UInt8](try Data(contentsOf: URL(fileURLWithPath: one.backing + "/table.bin")))
    XCTAssertTrue(try mustSucceed("disk", "corrupt", "i001", "--path", "^/table", "--zero", "8:4").contains("4 byte(s) from 8 zeroed"))
    let zeroed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: one.backing + "/table.bin")))
    XCTAssertEqual(Array(zeroed[8..<12]), [0, 0, 0, 0])
    XCTAssertEqual(zeroed[..<8] + zeroed[12...], cut[..<8] + cut[12...], "bytes outside the range changed")
    let none = try cthulhu("disk", "corrupt", "i001", "--path", "^/nothing$", "--zero", "0:10")
    XCTAssertNotEqual(none.status, 0)
    XCTAssertTrue(none.stderr.contains("Nothing was changed"), none.stderr)
  }
}

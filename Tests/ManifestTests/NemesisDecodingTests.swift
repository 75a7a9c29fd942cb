import Foundation
import XCTest

@testable import Manifest

/// `nemesis:`: what it reads, and every mistake reported at its node.
final class NemesisDecodingTests: XCTestCase {
  /// Five docker instances in two groups (server i001–i003, client i004–i005), then `nemesis`.
  static func manifest(_ nemesis: String, driver: String = "") -> String {
    "fixture: t\n\(driver)groups:\n  server: {image: x, count: 3}\n  client: {image: x, count: 2}\nnemesis:\n" + nemesis
  }

  func testAScheduleDecodesWithItsDefaults() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
          seed: 42
          faults:
            - partition: majority
              after: 2s
              for: 5s
              every: 15s
              times: 4
            - delay: 200ms
              jitter: 50ms
              distribution: uniform
              targets: random 2 of server
              for: 4s
              every: 10s
            - kill: random 1
              signal: term
              for: 3s
            - pause: [i004, i005]
              for: 1s
            - loss: 30%
              targets: client
              for: 1s
            - rate: 1mbit
              for: 1s
            - isolate: i00*
              for: 1s
            - stop: server
              for: 1s

        """), in: dir)
    let s = try XCTUnwrap(m.nemesis)
    XCTAssertEqual(s.seed, 42)
    XCTAssertEqual(s.faults.count, 8)
    XCTAssertEqual(s.faults[0].action, .partition(.majority))
    XCTAssertEqual(s.faults[0].targets, NemesisTargets(words: ["all"]))
    XCTAssertEqual(s.faults[0].after, .seconds(2))
    XCTAssertEqual(s.faults[0].lasting, .seconds(5))
    XCTAssertEqual(s.faults[0].every, .seconds(15))
    XCTAssertEqual(s.faults[0].occurrences, 4)
    XCTAssertEqual(s.faults[0].location.line, 8)
    XCTAssertEqual(s.faults[1].action, .delay(milliseconds: 200, jitterMilliseconds: 50, distribution: "uniform"))
    XCTAssertEqual(s.faults[1].targets, NemesisTargets(words: ["server"], random: 2))
    XCTAssertNil(s.faults[1].occurrences, "every without times: until stopped")
    XCTAssertEqual(s.faults[2].action, .kill(signal: "TERM"))
    XCTAssertEqual(s.faults[2].targets, NemesisTargets(words: ["all"], random: 1))
    XCTAssertEqual(s.faults[2].occurrences, 1)
    XCTAssertEqual(s.faults[3].targets.words, ["i004", "i005"])
    XCTAssertEqual(s.faults[4].action, .loss(percent: 30))
    XCTAssertEqual(s.faults[5].action, .rate(bitsPerSecond: 1_000_000))
    XCTAssertEqual(s.faults[6].action, .isolate)
    XCTAssertEqual(s.faults[7].action, .stop)
    // Not part of the topology.
    var other = m
    other.nemesis = nil
    XCTAssertEqual(m, other)
  }

  func testEveryMistakeIsReportedAtItsNode() throws {
    let dir = try TempDir()
    let p = problems(
      Self.manifest(
        """
          seed: -1
          faults:
            - partition: majorty
              for: 5s
            - delay: 200
              targets: nosuch
              for: 1s
            - kill: random 9
              for: 2s
            - isolate: i001
              for: 5s
              every: 5s
            - loss: 130
              for: 1s
              times: 3
            - partition: bridge
              targets: i001,i002
              for: 1s
            - pause: i001
              targets: i002
              for: 1s
            - rate: fast
            - jitter: 5ms
              for: 1s
            - kill: i001
              stop: i002
              for: 1s
            - isolate: i001
              for: 0s
              signal: HUP

        """), in: dir)
    XCTAssertEqual(
      p,
      [
        "6:9: 'nemesis.seed' must be a whole number from 0 to 18446744073709551615, not '-1'",
        "8:18: unknown partition shape 'majorty'; use halves, majority, majorities-ring, bridge or cut (did you mean 'majority'?)",
        "10:14: 'delay' must be a duration such as 500ms, 2s, 1m30s, not '200'",
        "11:16: 'nosuch' in nemesis fault 2 names no instance or group (instances i001, i002, i003, i004, i005; groups client, server; or all)",
        "13:13: 'random 9' in nemesis fault 3 asks for more members than the 5 its pool holds",
        "17:14: 'every' (5s) must be longer than 'for' (5s): each occurrence is healed before the next, so the gap between them is every − for",
        "18:13: 'loss' must be a percentage from 0 to 100 such as 30 or 30%, not '130'",
        "20:14: 'times: 3' repeats the fault: give 'every' too (how often it comes back)",
        "22:16: a bridge partition needs at least 3 instances, and nemesis fault 6 gives it 2",
        "25:7: the targets of 'pause' are its value (pause: random 1), not 'targets'",
        "27:7: nemesis fault 8 needs 'for': how long each occurrence lasts before it is healed (e.g. for: 5s)",
        "27:13: 'rate' must be a rate such as 512kbit, 10mbit or 1mbps, not 'fast'",
        "28:7: nemesis fault 9 names no fault: give one of partition, isolate, loss, duplicate, rate, delay, kill, crash, pause, stop, clock, disk_error, disk_delay, grow, shrink",
        "31:7: nemesis fault 10 names two faults ('kill' and 'stop'); give each its own entry",
        "34:12: 'for' must be longer than 0s",
        "35:7: 'signal' is for kill, not isolate",
      ])
  }

  func testDuplicateAndReorderDecodeAndTheirMistakesAreReportedAtTheirNodes() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
          faults:
            - duplicate: 30%
              targets: server
              for: 2s
            - delay: 100ms
              reorder: 25
              for: 2s

        """), in: dir)
    let s = try XCTUnwrap(m.nemesis)
    XCTAssertEqual(s.faults[0].action, .duplicate(percent: 30))
    XCTAssertTrue(s.faults[0].action.isNetwork)
    XCTAssertEqual(s.faults[1].action, .delay(milliseconds: 100, jitterMilliseconds: nil, distribution: nil, reorderPercent: 25))
    let p = problems(
      Self.manifest(
        """
          faults:
            - duplicate: 150%
              for: 1s
            - delay: 100ms
              reorder: lots
              for: 1s
            - loss: 10
              reorder: 5
              for: 1s

        """), in: dir)
    XCTAssertEqual(
      p,
      [
        "7:18: 'duplicate' must be a percentage from 0 to 100 such as 30 or 30%, not '150%'",
        "10:16: 'reorder' must be a percentage from 0 to 100 such as 25 or 25%, not 'lots'",
        "13:7: 'reorder' is for delay, not loss",
      ])
  }

  func testNetworkFaultsNeedNamespacesOnTheProcessDriver() throws {
    let dir = try TempDir()
    let yaml = """
      fixture: t
      driver: process
      groups:
        a: {command: [/bin/true], count: 3}
      nemesis:
        faults:
          - partition: halves
            for: 1s
          - kill: random 1
            for: 1s

      """
    XCTAssertEqual(
      problems(yaml, in: dir),
      [
        "7:7: 'partition' is a network fault, and in network.mode: loopback every instance shares the host's network; use network.mode: namespaces (root) or the docker driver"
      ])
    XCTAssertEqual(problems(yaml.replacingOccurrences(of: "driver: process\n", with: "driver: process\nnetwork: {mode: namespaces}\n"), in: dir), [])
  }

  /// `clock: +5s` moves the clocks of its targets, which must be in groups
  /// that say clock_skew: true; a bad offset or another group is reported at
  /// its node.
  func testAClockSkewNeedsItsGroupsToSayClockSkew() throws {
    let dir = try TempDir()
    let yaml = """
      fixture: t
      driver: process
      groups:
        a: {command: [/bin/true], count: 2, clock_skew: true}
        b: {command: [/bin/true], count: 1}
      nemesis:
        faults:
          - clock: -90s
            targets: a
            for: 5s
          - clock: soon
            targets: i001
            for: 1s
          - clock: +1h
            targets: i002,i003
            for: 1s
          - clock: +1s
            for: 1s

      """
    let p = problems(yaml, in: dir)
    XCTAssertEqual(
      p,
      [
        "11:14: 'clock' must be an offset such as +5s, -250ms or +2h, not 'soon'",
        "15:16: nemesis fault 3 moves the clock of i003, whose group 'b' does not say clock_skew: true (libfaketime is preloaded only where it does)",
        "17:14: nemesis fault 4 moves the clock of every instance (no 'targets'), and group 'b' does not say clock_skew: true; give 'targets'",
      ])
    let ok = try load(yaml.components(separatedBy: "    - clock: soon")[0], in: dir)
    XCTAssertEqual(ok.nemesis?.faults.map(\.action), [.clock(skewSeconds: -90)])
  }

  /// `crash: TARGETS` kills and loses what was not fsynced: its targets'
  /// groups need a mount with faults; `torn` is for crash only.
  func testACrashNeedsAMountWithFaultsOnItsTargets() throws {
    let dir = try TempDir()
    let yaml = """
      fixture: t
      driver: process
      groups:
        a:
          command: [/bin/true]
          count: 2
          mounts: {var: /opt/app/var, data: {path: /data, faults: true}}
        b: {command: [/bin/true], count: 1}
      nemesis:
        faults:
          - crash: random 1 of a
            torn: true
            for: 5s
          - crash: i003
            for: 1s
          - kill: i001
            torn: true
            for: 1s

      """
    let p = problems(yaml, in: dir)
    XCTAssertEqual(
      p,
      [
        "14:14: nemesis fault 2 crashes i003, whose group 'b' has no mount with faults: true (nothing it wrote could be lost)",
        "17:7: 'torn' is for crash, not kill",
      ])
    let ok = try load(yaml.components(separatedBy: "    - crash: i003")[0], in: dir)
    XCTAssertEqual(ok.nemesis?.faults.map(\.action), [.crash(torn: true)])
  }

  func testTheSectionItselfMustBeWhole() throws {
    let dir = try TempDir()
    XCTAssertEqual(
      problems(Self.manifest("  seed: 1\n"), in: dir),
      ["6:3: 'nemesis' needs 'faults': a list such as - { partition: majority, for: 5s, every: 15s }"])
    XCTAssertEqual(problems(Self.manifest("  faults: []\n"), in: dir), ["6:11: 'nemesis.faults' must be a list of at least one fault, not a list"])
    XCTAssertEqual(problems(Self.manifest("  fautls: []\n"), in: dir).first, "6:3: unknown key 'fautls' in 'nemesis'; did you mean 'faults'?")
  }

  func testTargetsParse() {
    XCTAssertEqual(NemesisTargets.parse("random 2"), NemesisTargets(words: ["all"], random: 2))
    XCTAssertEqual(NemesisTargets.parse("random 1 of server,client"), NemesisTargets(words: ["server", "client"], random: 1))
    XCTAssertEqual(NemesisTargets.parse("i001,i002"), NemesisTargets(words: ["i001", "i002"]))
    XCTAssertNil(NemesisTargets.parse("random"))
    XCTAssertNil(NemesisTargets.parse("random 0"))
    XCTAssertNil(NemesisTargets.parse("random 2 from x"))
  }
}

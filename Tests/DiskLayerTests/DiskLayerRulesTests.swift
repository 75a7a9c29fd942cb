import DiskLayer
import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// Delay and error rules through a real mount: what they fail, what they
/// leave alone, how they draw, and what they refuse.
final class DiskLayerRulesTests: XCTestCase {
  var layer: LayerMount!

  override func setUp() async throws { layer = try LayerMount(tag: "disk-faults") }

  override func tearDown() async throws {
    if let layer { XCTAssertTrue(layer.stop(), "the layer did not stop by itself on SIGTERM, or left its mount") }
  }

  /// The errno of `body`'s failing call, or 0 if it succeeded.
  func errnoOf(_ body: () -> Int) -> Int32 { body() < 0 ? errno : 0 }

  func testAFullDiskFailsMatchingWritesOnlyAndClearLiftsIt() throws {
    try FileManager.default.createDirectory(atPath: layer.backing + "/data", withIntermediateDirectories: true)
    try Data("durable".utf8).write(to: URL(fileURLWithPath: layer.backing + "/data/log"))
    let full = try DiskFaultRule(.error(.enospc), ops: [.write], path: "^/data/")
    XCTAssertEqual(try layer.rules(.set([full])), [DiskRuleStatus(rule: full)])
    let fd = try Through.open(layer.mount + "/data/log", O_WRONLY)
    defer { close(fd) }
    XCTAssertEqual(errnoOf { pwrite(fd, "XXXX", 4, 0) }, ENOSPC)
    // Nothing reached the backing file, and the ledger recorded no change.
    XCTAssertEqual(try Through.read(layer.backing + "/data/log"), Array("durable".utf8))
    var status = try layer.status()
    XCTAssertEqual(status.unsyncedFiles, 0)
    XCTAssertEqual(status.savedBytes, 0)
    XCTAssertEqual(status.rules, [DiskRuleStatus(rule: full, matched: 1, failed: 1)])
    // Another path, and another operation on the matching path, are untouched.
    try Through.write(layer.mount + "/elsewhere", at: 0, Array("fine".utf8), create: true)
    XCTAssertEqual(try Through.read(layer.mount + "/data/log"), Array("durable".utf8))
    try Through.truncate(layer.mount + "/data/log", 3)
    status = try layer.status()
    XCTAssertEqual(status.rules.first?.failed, 1)
    XCTAssertEqual(status.unsyncedFiles, 2)
    // Clear answers with what the rules did, and lifts them.
    XCTAssertEqual(try layer.rules(.clear), [DiskRuleStatus(rule: full, matched: 1, failed: 1)])
    XCTAssertEqual(pwrite(fd, "XXXX", 4, 0), 4)
    XCTAssertEqual(try Through.read(layer.backing + "/data/log"), Array("XXXX".utf8))
    XCTAssertEqual(try layer.status().rules, [])
  }

  /// One slow disk queue: a delayed fsync holds the operations behind it,
  /// and the control socket answers all along.
  func testADelayedFsyncTakesItsDelayWhileTheControlSocketAnswers() throws {
    try Data("slow".utf8).write(to: URL(fileURLWithPath: layer.backing + "/slow"))
    try Data("other".utf8).write(to: URL(fileURLWithPath: layer.backing + "/other"))
    let delay = try DiskFaultRule(.delay(.milliseconds(200)), ops: [.fsync], path: "^/slow$")
    try layer.rules(.set([delay]))
    let fd = try Through.open(layer.mount + "/slow", O_WRONLY)
    defer { close(fd) }
    let done = DispatchSemaphore(value: 0)
    let clock = ContinuousClock()
    nonisolated(unsafe) var fsyncTook = Duration.zero
    nonisolated(unsafe) var fsyncEnded = clock.now
    let started = clock.now
    Thread {
      fsyncTook = clock.measure { XCTAssertEqual(fsync(fd), 0) }
      fsyncEnded = clock.now
      done.signal()
    }.start()
    // The control socket answers while the fsync waits (it counts as delayed once it started waiting).
    let deadline = Date().addingTimeInterval(10)
    var answered: ContinuousClock.Instant?
    while Date() < deadline {
      if try layer.status().rules.first?.delayed == 1 {
        answered = clock.now
        break
      }
      usleep(1000)
    }
    let answeredAt = try XCTUnwrap(answered, "the status never showed the fsync delayed")
    // An operation on another file queues behind the delayed one.
    var st = stat()
    XCTAssertEqual(stat(layer.mount + "/other", &st), 0)
    let statEnded = clock.now
    XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
    XCTAssertGreaterThanOrEqual(fsyncTook, .milliseconds(200))
    XCTAssertLessThan(answeredAt, fsyncEnded, "the control socket answered only after the delay")
    // The stat, made once the fsync was waiting and not delayed itself, ended after the delay.
    XCTAssertGreaterThanOrEqual(statEnded - started, .milliseconds(200), "the stat of another file overtook the delayed fsync")
    XCTAssertEqual(try layer.status().rules, [DiskRuleStatus(rule: delay, matched: 1, delayed: 1)])
  }

  /// An open file matches by its name now; a rename by either of its names.
  func testPathsOfOpenFilesAndRenames() throws {
    for name in ["x", "free", "locked-in"] { try Data("data".utf8).write(to: URL(fileURLWithPath: layer.backing + "/" + name)) }
    try FileManager.default.createDirectory(atPath: layer.backing + "/locked", withIntermediateDirectories: true)
    try layer.rules(
      .set([
        try DiskFaultRule(.error(.eio), ops: [.read], path: "^/y$"),
        try DiskFaultRule(.error(.eacces), ops: [.rename], path: "^/locked/"),
      ]))
    // Nothing read from it yet: the kernel's page cache holds none of it (see docs: cached reads never reach the layer).
    let fd = try Through.open(layer.mount + "/x", O_RDONLY)
    defer { close(fd) }
    try Through.rename(layer.mount + "/x", layer.mount + "/y")
    var byte: UInt8 = 0
    XCTAssertEqual(errnoOf { pread(fd, &byte, 1, 0) }, EIO)
    XCTAssertEqual(errnoOf { Int(rename(layer.mount + "/free", layer.mount + "/locked/in")) }, EACCES)
    XCTAssertEqual(errnoOf { Int(rename(layer.mount + "/locked-in", layer.mount + "/elsewhere")) }, 0)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layer.backing).sorted(), ["elsewhere", "free", "locked", "y"])
    // The kernel may ask again for a page whose read-ahead failed: one pread, one or more reads failed.
    let failed = try layer.status().rules.map(\.failed)
    XCTAssertGreaterThanOrEqual(failed.first ?? 0, 1)
    XCTAssertEqual(failed.last, 1)
  }

  /// SIGTERM ends a layer in the middle of a long delay: the wait is cut
  /// short, the operation answered, the mount taken away.
  func testAStopSignalCutsADelayShort() throws {
    try Data().write(to: URL(fileURLWithPath: layer.backing + "/stuck"))
    try layer.rules(.set([try DiskFaultRule(.delay(.seconds(600)), ops: [.getattr], path: "^/stuck$")]))
    let done = DispatchSemaphore(value: 0)
    let path = layer.mount + "/stuck"
    Thread {
      var st = stat()
      _ = stat(path, &st)
      done.signal()
    }.start()
    let deadline = Date().addingTimeInterval(10)
    while try layer.status().rules.first?.delayed != 1, Date() < deadline { usleep(1000) }
    XCTAssertEqual(try layer.status().rules.first?.delayed, 1)
    XCTAssertTrue(layer.stop(), "the layer did not end by itself within 5 s of SIGTERM during a delay")
    layer = nil
    XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
  }

  /// 200 writes at 50 %: between 60 and 140 fail, the same ones for the same seed.
  func testPercentDrawsAreSeeded() throws {
    try Data().write(to: URL(fileURLWithPath: layer.backing + "/p"))
    func failures(seed: UInt64) throws -> [Int] {
      let rule = try DiskFaultRule(.error(.eio), ops: [.write], path: "^/p$", percent: 50, seed: seed)
      try layer.rules(.set([rule]))
      let fd = try Through.open(layer.mount + "/p", O_WRONLY)
      defer { close(fd) }
      let failed = (0..<200).filter { i in errnoOf { pwrite(fd, "x", 1, off_t(i)) } == EIO }
      XCTAssertEqual(try layer.status().rules, [DiskRuleStatus(rule: rule, matched: 200, failed: failed.count)])
      return failed
    }
    let first = try failures(seed: 7)
    XCTAssertTrue((60...140).contains(first.count), "\(first.count) of 200 failed")
    XCTAssertEqual(try failures(seed: 7), first)
    XCTAssertNotEqual(try failures(seed: 8), first)
  }

  /// A request with a bad rule is refused whole, naming the rule and the
  /// field, and the rules in force stay.
  func testABadRuleIsRefusedAndChangesNothing() throws {
    let kept = try DiskFaultRule(.delay(.milliseconds(1)), ops: [.readdir])
    try layer.rules(.set([kept]))
    let good = #"{"kind":"error","errno":"EIO"}"#
    let cases: [(rule: String, problem: String)] = [
      (#"{"kind":"error","errno":"EFOO"}"#, #"rule 2, "errno": "EFOO" is not an error the layer returns"#),
      (#"{"kind":"error","errno":"EIO","path":"("}"#, #"rule 2, "path": "(" is not a regular expression"#),
      (#"{"kind":"delay","delay":"50ms","ops":["wirte"]}"#, #"rule 2, "ops": "wirte" is not an operation"#),
      (#"{"kind":"error","errno":"EIO","percent":101}"#, #"rule 2, "percent": 101.0 is not from 0 to 100"#),
      (#"{"kind":"error","errno":"EIO","percent":-1}"#, #"rule 2, "percent": -1.0 is not from 0 to 100"#),
      (#"{"kind":"delay","delay":"soon"}"#, #"rule 2, "delay": "soon" is not a duration"#),
      (#"{"kind":"delay","delay":"2h"}"#, #"rule 2, "delay": 120m is not from 0 to 60m"#),
      (#"{"kind":"delay"}"#, #"rule 2, "delay": missing"#),
      (#"{"kind":"error","errno":"EIO","precent":5}"#, #"rule 2, "precent": not a field of a rule"#),
      (#"{"kind":"explode"}"#, #"rule 2, "kind": "explode" is neither delay nor error"#),
      (#"{"kind":"error","errno":"EIO","ops":[]}"#, #"rule 2, "ops": the list is empty"#),
    ]
    for (rule, problem) in cases {
      for verb in ["set", "add"] {
        let reply = try layer.send(raw: #"{"rules":{"\#(verb)":[\#(good),\#(rule)]}}"#)
        XCTAssertNil(reply.rules)
        XCTAssertTrue(reply.error?.contains(problem) ?? false, "\(rule): \(reply.error ?? "no error")")
      }
    }
    XCTAssertEqual(try layer.status().rules, [DiskRuleStatus(rule: kept)])
    // add appends, keeping the counts of the rules in force.
    let more = try DiskFaultRule(.error(.erofs), ops: [.mkdir], path: "^/ro")
    XCTAssertEqual(try layer.rules(.add([more])), [DiskRuleStatus(rule: kept), DiskRuleStatus(rule: more)])
    XCTAssertEqual(errnoOf { Int(mkdir(layer.mount + "/ro", 0o755)) }, EROFS)
    XCTAssertFalse(FileManager.default.fileExists(atPath: layer.backing + "/ro"))
  }
}

import Foundation
import Glibc
import Orchestrator
import TestSupport
import XCTest

/// A mount with `faults: true` on host processes (loopback mode): apply
/// starts a disk layer per instance before the instance, the instance sees
/// the layer's mount point (`<ip>/disk/<mount>`), the files are kept in
/// `bindmounts/<mount>`; a layer whose daemon died is planned and repaired;
/// destroy leaves no mount and no daemon. Needs root and /dev/fuse.
final class DiskLayerFixtureTests: DiskFixtureTestCase {
  func testApplyServesTheMountThroughALayerThatDestroyUnmounts() async throws {
    try mustSucceed("apply")
    for name in ["i001", "i002"] {
      let ip = try ip(name)
      let l = try layer(name)
      XCTAssertEqual(l.mountPoint, root + "/\(ip)/disk/data")
      XCTAssertEqual(l.backing, root + "/\(ip)/bindmounts/data")
      XCTAssertTrue(MountTable.current().hasDiskLayer(at: l.mountPoint), "\(name)'s layer is not mounted at \(l.mountPoint)")
      XCTAssertNotNil(layers.running(l))
      // The instance wrote through the layer; the file is in the backing folder.
      try await Host.eventually("\(name) wrote its greeting") {
        (try? String(contentsOfFile: l.backing + "/greeting", encoding: .utf8)) == "hello from \(name)\n"
      }
      XCTAssertEqual(try String(contentsOfFile: l.mountPoint + "/greeting", encoding: .utf8), "hello from \(name)\n")
    }
    let pids = try ["i001", "i002"].map { try XCTUnwrap(layers.running(try layer($0))) }
    let plan = try mustSucceed("plan")
    XCTAssertFalse(plan.contains("replace"), "a fixture whose layers serve needs nothing: \(plan)")

    try mustSucceed("destroy")
    XCTAssertEqual(MountTable.current().diskLayers(under: dir), [], "destroy left a disk layer mounted")
    for pid in pids { XCTAssertFalse(HelperProcess.isAlive(pid), "the layer daemon \(pid) outlived destroy") }
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "destroy left \(root)")
  }

  func testALayerWhoseDaemonDiedIsPlannedAndMadeAnewAndDestroyStillUnmounts() async throws {
    try mustSucceed("apply")
    let l = try layer("i001")
    let pid = try XCTUnwrap(layers.running(l))
    kill(pid, SIGKILL)
    try await Host.eventually("the killed daemon is gone") { !HelperProcess.isAlive(pid) }
    // Its mount stays, dead: the instance sees "Transport endpoint is not connected".
    XCTAssertTrue(MountTable.current().hasDiskLayer(at: l.mountPoint))
    XCTAssertNil(layers.running(l))
    let plan = try mustSucceed("plan")
    XCTAssertTrue(plan.contains("i001") && plan.contains("disk layer of its mount 'data' no longer serves"), plan)
    XCTAssertFalse(plan.contains("i002"), "i002's layer serves: \(plan)")
    try mustSucceed("apply")
    let again = try XCTUnwrap(layers.running(l), "apply did not start i001's layer anew")
    XCTAssertNotEqual(again, pid)
    try await Host.eventually("i001 wrote its greeting through the new layer") {
      (try? String(contentsOfFile: l.mountPoint + "/greeting", encoding: .utf8)) == "hello from i001\n"
    }

    // Killed again, and destroyed with its daemon dead: the mount still goes.
    kill(again, SIGKILL)
    try await Host.eventually("the killed daemon is gone") { !HelperProcess.isAlive(again) }
    try mustSucceed("destroy")
    XCTAssertEqual(MountTable.current().diskLayers(under: dir), [], "destroy left a dead disk layer mounted")
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "destroy left \(root)")
  }

  func testKillLoseUnsyncedLosesExactlyWhatWasNotMadeDurableAndLeavesTheInstanceDown() async throws {
    try mustSucceed("apply")
    let one = try layer("i001")
    let two = try layer("i002")
    try await Host.eventually("i001 wrote its greeting") { FileManager.default.fileExists(atPath: one.backing + "/greeting") }
    // Durable: the file's data and its name (the folder fsynced).
    try write("durable", to: one.mountPoint + "/log", sync: true)
    syncFolder(one.mountPoint)
    // Not: more data in it, a new name, and i002's unsynced file (not crashed).
    try write(" and lost", to: one.mountPoint + "/log", append: true, sync: false)
    try write("lost", to: one.mountPoint + "/new", sync: false)
    try write("kept", to: two.mountPoint + "/new", sync: false)

    let out = try mustSucceed("kill", "--lose-unsynced", "i001")
    XCTAssertTrue(out.hasPrefix("kill --lose-unsynced: i001\n"), out)
    XCTAssertTrue(out.contains("i001: data lost the unsynced writes of"), out)
    XCTAssertEqual(try String(contentsOfFile: one.backing + "/log", encoding: .utf8), "durable")
    XCTAssertFalse(FileManager.default.fileExists(atPath: one.backing + "/new"), "an unsynced name survived the crash")
    XCTAssertEqual(try String(contentsOfFile: two.backing + "/new", encoding: .utf8), "kept", "i002 was not crashed")
    let status = try mustSucceed("status", "--json")
    XCTAssertTrue(status.contains("exited") || status.contains("stopped"), "i001 should stay down: \(status)")
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    XCTAssertTrue(events.contains("\"action\":\"kill --lose-unsynced\""), events)

    // Back up, through the same layer: what survived is what it sees.
    try mustSucceed("start", "i001")
    XCTAssertEqual(try String(contentsOfFile: one.mountPoint + "/log", encoding: .utf8), "durable")

    // An instance with no mount with faults: refused, and it keeps running.
    let refused = try cthulhu("kill", "--lose-unsynced", "i003")
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("instance i003 has no mount with faults: true"), refused.stderr)
    let after = try mustSucceed("status")
    XCTAssertFalse(after.contains("i003") && after.contains("i003 exited"), after)
    // --torn without --lose-unsynced is a usage error.
    XCTAssertNotEqual(try cthulhu("kill", "--torn", "i002").status, 0)
  }

  func testDiskSyncMakesWhatIsThereDurableSoACrashLosesOnlyWhatCameAfter() async throws {
    try mustSucceed("apply")
    let two = try layer("i002")
    try await Host.eventually("i002 wrote its greeting") { FileManager.default.fileExists(atPath: two.backing + "/greeting") }
    try write("before", to: two.mountPoint + "/kept", sync: false)
    let out = try mustSucceed("disk", "sync", "i002")
    XCTAssertTrue(out.hasPrefix("disk sync i002/data: "), out)
    XCTAssertTrue(out.contains("made durable"), out)
    try write("after", to: two.mountPoint + "/lost", sync: false)
    try mustSucceed("kill", "--lose-unsynced", "i002")
    XCTAssertEqual(try String(contentsOfFile: two.backing + "/kept", encoding: .utf8), "before")
    XCTAssertEqual(try String(contentsOfFile: two.backing + "/greeting", encoding: .utf8), "hello from i002\n")
    XCTAssertFalse(FileManager.default.fileExists(atPath: two.backing + "/lost"))
    // Through the control script, and refused for an instance without such a mount.
    XCTAssertEqual(try Host.run(root + "/control", ["disk", "sync", "i001"]).status, 0)
    let refused = try cthulhu("disk", "sync", "i003")
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("instance i003 has no mount with faults: true"), refused.stderr)
  }

  func testAReaddressMovesTheLayersWithTheirInstances() async throws {
    try mustSucceed("apply")
    let before = try layer("i001")
    try write("kept", to: before.mountPoint + "/file", sync: true)
    let manifest = try String(contentsOfFile: dir + "/cthulhu.yaml", encoding: .utf8)
    let subnet = "127.\(100 + Int.random(in: 0..<100)).\(Int.random(in: 1..<250)).0/24"
    try manifest.replacingOccurrences(of: "driver: process", with: "driver: process\nnetwork: { subnet: \(subnet) }")
      .write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
    let after = try layer("i001")
    XCTAssertNotEqual(after.mountPoint, before.mountPoint, "the instance moved, its layer with it")
    XCTAssertTrue(after.mountPoint.hasPrefix(root + "/" + (try ip("i001")) + "/"), after.mountPoint)
    XCTAssertNotNil(layers.running(after))
    XCTAssertEqual(try String(contentsOfFile: after.mountPoint + "/file", encoding: .utf8), "kept")
    XCTAssertEqual(MountTable.current().diskLayers(under: root).sorted(), try ["i001", "i002"].map { try layer($0).mountPoint }.sorted())
    try mustSucceed("destroy")
    XCTAssertEqual(MountTable.current().diskLayers(under: dir), [])
  }

  func testAnInstanceScaledAwayOrAMountWithoutFaultsAnyMoreIsServedNoMore() async throws {
    try mustSucceed("apply")
    let two = try layer("i002")
    let manifest = try String(contentsOfFile: dir + "/cthulhu.yaml", encoding: .utf8)
    try manifest.replacingOccurrences(of: "count: 2", with: "count: 1").write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
    XCTAssertFalse(MountTable.current().hasDiskLayer(at: two.mountPoint), "i002 is gone, its layer with it")
    XCTAssertEqual(layers.recorded().map(\.instance), ["i001"])
    let one = try layer("i001")
    try manifest.replacingOccurrences(of: "data: { path: /data, faults: true }", with: "data: /data")
      .write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
    XCTAssertFalse(MountTable.current().hasDiskLayer(at: one.mountPoint), "i001's data is no longer served through a layer")
    XCTAssertEqual(layers.recorded().count, 0)
    let plan = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(plan.status, 0, "converged: \(plan.stdout)")
  }

  /// A record edited to name a folder outside the fixture is not believed:
  /// nothing is corrupted, rolled back or unmounted there.
  func testARecordThatNamesAnotherFolderIsIgnored() async throws {
    try mustSucceed("apply")
    let one = try layer("i001")
    let outside = dir + "/outside"
    try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
    try "untouched".write(toFile: outside + "/file.log", atomically: true, encoding: .utf8)
    var forged = one
    forged.backing = outside
    try JSONEncoder().encode(forged).write(to: URL(fileURLWithPath: one.state + "/layer.json"))
    XCTAssertNil(layers.recorded().first { $0.instance == "i001" }, "a forged record was believed")
    try mustSucceed("stop", "i001")
    let corrupt = try cthulhu("disk", "corrupt", "i001", "--path", "file", "--bitflip", "3")
    XCTAssertNotEqual(corrupt.status, 0)
    XCTAssertEqual(try String(contentsOfFile: outside + "/file.log", encoding: .utf8), "untouched")
  }
}

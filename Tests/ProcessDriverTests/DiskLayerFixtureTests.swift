import Foundation
import Orchestrator
import TestSupport
import XCTest

/// A mount with `faults: true` on host processes (loopback mode): apply
/// starts a disk layer per instance before the instance, the instance sees
/// the layer's mount point (`<ip>/disk/<mount>`), the files are kept in
/// `bindmounts/<mount>`; a layer whose daemon died is planned and repaired;
/// destroy leaves no mount and no daemon. Needs root and /dev/fuse.
final class DiskLayerFixtureTests: FixtureTestCase {

  override func setUp() async throws {
    try Host.require(getuid() == 0, "the disk layer mounts a file system, which needs root")
    try Host.require(FileManager.default.fileExists(atPath: "/dev/fuse"), "no /dev/fuse on this machine")
    try makeFolder("dsk")
    try """
    fixture: \(fixture)
    driver: process
    groups:
      store:
        count: 2
        mounts:
          var: /opt/app/var
          data: { path: /data, faults: true }
        command: ["/bin/sh", "-c", "echo \\"hello from $CTHULHU_NAME\\" > \\"$CTHULHU_MOUNT_DATA/greeting\\"; exec sleep infinity"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  var layers: DiskLayers { DiskLayers(root: root) }

  func layer(_ name: String) throws -> DiskLayers.Layer {
    try XCTUnwrap(layers.recorded().first { $0.instance == name }, "no disk layer recorded for \(name)")
  }

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
}

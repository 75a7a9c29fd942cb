import Foundation
import Orchestrator
import TestSupport
import XCTest

/// A mount with `faults: true` on containers: the layer's mount point is
/// bind-mounted at the mount's path, what the container fsyncs survives
/// `kill --lose-unsynced` and what it did not is lost; destroy leaves no
/// mount. Needs root, /dev/fuse and the test image (scripts/test-image.sh).
final class DockerDiskLayerTests: XCTestCase {
  var e: EngineFixture!
  var root: String { e.root }

  override func setUp() async throws {
    try Harness.require(getuid() == 0, "the disk layer mounts a file system, which needs root")
    try Harness.require(FileManager.default.fileExists(atPath: "/dev/fuse"), "no /dev/fuse on this machine")
    e = try await EngineFixture.make(tag: "disk", prefix: "dk")
    try e.writeManifest(
      """
      fixture: \(e.fixture)
      groups:
        store:
          image: cthulhu-test:latest
          count: 2
          mounts:
            var: /opt/app/var
            data: { path: /data, faults: true }
          command: ["/bin/sh", "-c", "exec sleep 1000"]
          stop_timeout: 1s

      """)
  }

  override func tearDown() async throws {
    guard let e else { return }
    try await e.tearDown()
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run {
    let r = try e.cthulhu(args)
    XCTAssertEqual(r.status, 0, "cthulhu \(args.joined(separator: " ")): \(r.stdout)\(r.stderr)")
    return r
  }

  func testWhatTheContainerDidNotSyncIsLostInACrashAndDestroyUnmounts() async throws {
    try cthulhu("apply")
    let layers = DiskLayers(root: root)
    let one = try XCTUnwrap(layers.recorded().first { $0.instance == "i001" })
    XCTAssertTrue(MountTable.current().hasDiskLayer(at: one.mountPoint))
    // In the container: a file and its name made durable (busybox sync
    // fsyncs each file or folder it is given), then writes that are not.
    try cthulhu(
      "exec", "i001", "--", "/bin/sh", "-c",
      "cd /data && printf durable > log && sync log . && printf ' and lost' >> log && printf lost > new")
    XCTAssertEqual(try String(contentsOfFile: one.backing + "/log", encoding: .utf8), "durable and lost")
    XCTAssertTrue(FileManager.default.fileExists(atPath: one.backing + "/new"))

    let out = try cthulhu("kill", "--lose-unsynced", "i001").stdout
    XCTAssertTrue(out.contains("i001: data lost the unsynced writes of"), out)
    XCTAssertEqual(try String(contentsOfFile: one.backing + "/log", encoding: .utf8), "durable")
    XCTAssertFalse(FileManager.default.fileExists(atPath: one.backing + "/new"), "an unsynced name survived the crash")
    try cthulhu("start", "i001")
    XCTAssertEqual(try cthulhu("exec", "i001", "--", "cat", "/data/log").stdout, "durable")

    try cthulhu("destroy")
    XCTAssertEqual(MountTable.current().diskLayers(under: e.dir), [], "destroy left a disk layer mounted")
    XCTAssertFalse(FileManager.default.fileExists(atPath: root))
  }
}

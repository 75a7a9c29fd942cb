import Foundation
import Glibc
import Orchestrator
import TestSupport
import XCTest

/// A process-driver fixture on loopback whose group `store` (i001, i002)
/// has a `data` mount with faults and whose group `plain` (i003) has none,
/// with what the disk tests share. Needs root and /dev/fuse.
class DiskFixtureTestCase: FixtureTestCase {

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
      plain:
        command: ["/usr/bin/sleep", "infinity"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  var layers: DiskLayers { DiskLayers(root: root) }

  func layer(_ name: String) throws -> DiskLayers.Layer {
    try XCTUnwrap(layers.recorded().first { $0.instance == name }, "no disk layer recorded for \(name)")
  }

  /// Writes `text` to `path` (created or truncated) and, if `sync`, fsyncs it.
  func write(_ text: String, to path: String, append: Bool = false, sync: Bool) throws {
    let fd = open(path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
    defer { close(fd) }
    XCTAssertEqual(text.utf8.count, Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) })
    if sync { XCTAssertEqual(fsync(fd), 0) }
  }

  /// fsyncs a folder: the names in it are durable.
  func syncFolder(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY)
    XCTAssertGreaterThanOrEqual(fd, 0)
    XCTAssertEqual(fsync(fd), 0)
    close(fd)
  }

  /// 0 when `text` could be written to `path` (created if need be), else the write's errno.
  func writeErrno(_ text: String, to path: String) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { return errno }
    defer { close(fd) }
    let n = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    return n == text.utf8.count ? 0 : (n < 0 ? errno : EIO)
  }
}

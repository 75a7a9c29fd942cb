import DiskLayer
import Foundation
import Orchestrator
import TestSupport
import XCTest

/// The built `cthulhu _disk` mounted over a backing folder, all in one
/// temporary folder: `<dir>/mount`, `<dir>/backing`, `<dir>/state`. Needs
/// root and /dev/fuse (skips without them, fails under CI=true). ``stop()``
/// ends the daemon and makes sure the mount is gone, whatever happened.
final class LayerMount {
  let dir: String
  var mount: String { dir + "/mount" }
  var backing: String { dir + "/backing" }
  var state: String { dir + "/state" }
  private let process = Process()

  init(tag: String) throws {
    try Harness.require(getuid() == 0, "the disk layer mounts a file system, which needs root")
    try Harness.require(FileManager.default.fileExists(atPath: "/dev/fuse"), "no /dev/fuse on this machine")
    dir = try Harness.tempDir(tag)
    for folder in [dir + "/mount", dir + "/backing", dir + "/state"] {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    process.executableURL = URL(fileURLWithPath: Harness.binary)
    process.arguments = ["_disk", "--mount", mount, "--backing", backing, "--state", state]
    _ = FileManager.default.createFile(atPath: dir + "/log", contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/log"))
    process.standardOutput = log
    process.standardError = log
    try process.run()
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      if let text = try? String(contentsOfFile: state + "/ready", encoding: .utf8),
        Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == process.processIdentifier, isMounted
      {
        return
      }
      if !process.isRunning { break }
      usleep(10_000)
    }
    let output = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
    stop()
    throw MountError(message: "the layer did not mount within 10 s: \(output)")
  }

  struct MountError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  /// The mount point is in this process's mount table.
  var isMounted: Bool { MountTable.current().entries.contains { $0.mountPoint == mount } }

  func loseUnsynced(torn: Bool = false, seed: UInt64 = 1) throws -> LossReport {
    try XCTUnwrap(DiskLayerClient.request(.loseUnsynced(torn: torn, seed: seed), socket: state + "/control.sock").loss)
  }

  func status() throws -> DiskLayerStatus {
    try XCTUnwrap(DiskLayerClient.request(.status, socket: state + "/control.sock").status)
  }

  /// Sets, adds or clears the layer's delay and error rules.
  @discardableResult
  func rules(_ change: DiskRulesChange) throws -> [DiskRuleStatus] {
    try XCTUnwrap(DiskLayerClient.request(.rules(change), socket: state + "/control.sock").rules)
  }

  /// Sends `line` as it is (no checks on this side) and decodes the reply.
  func send(raw line: String) throws -> DiskLayerReply {
    let fd = UnixLineSocket.newSocket()
    defer { close(fd) }
    XCTAssertEqual(UnixLineSocket.connectOrBind(fd, try XCTUnwrap(UnixLineSocket.address(state + "/control.sock")), bind: false), 0)
    XCTAssertTrue(UnixLineSocket.writeLine(fd, Data(line.utf8)))
    return try JSONDecoder().decode(DiskLayerReply.self, from: try XCTUnwrap(UnixLineSocket.readLine(fd)))
  }

  /// The daemon's PID.
  var pid: Int32 { process.processIdentifier }

  /// Waits up to `seconds` for the daemon to have exited (and been reaped); says whether it has.
  func waitForExit(seconds: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning, Date() < deadline { usleep(10_000) }
    return !process.isRunning
  }

  /// SIGTERM, up to 5 s for the daemon to unmount and exit, then SIGKILL and
  /// a lazy unmount of this mount point (ours) if it is still there; then
  /// the temporary folder goes. Returns whether the daemon ended by itself.
  @discardableResult
  func stop() -> Bool {
    var clean = true
    if process.isRunning {
      process.terminate()
      let deadline = Date().addingTimeInterval(5)
      while process.isRunning, Date() < deadline { usleep(10_000) }
      if process.isRunning {
        clean = false
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
      }
    }
    if isMounted {
      clean = false
      umount2(mount, Int32(MNT_DETACH))
    }
    if !isMounted { try? FileManager.default.removeItem(atPath: dir) }
    return clean && process.terminationStatus == 0
  }
}

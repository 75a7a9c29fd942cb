import DiskLayer
import Foundation
import Orchestrator
import TestSupport
import XCTest

/// The daemon around the rules: who owns what is made through it, its
/// control socket's answer to nonsense, and what a killed one leaves.
final class DiskLayerDaemonTests: XCTestCase {
  var layer: LayerMount!

  override func setUp() async throws { layer = try LayerMount(tag: "disk-daemon") }

  override func tearDown() async throws {
    if let layer { XCTAssertTrue(layer.stop(), "the layer did not stop by itself on SIGTERM, or left its mount") }
  }

  /// A file made by another user through the layer is that user's, and the
  /// kernel checks that user's rights (default_permissions).
  func testFilesBelongToWhoMadeThemAndRightsAreChecked() throws {
    let setpriv = "/usr/bin/setpriv"
    try Harness.require(FileManager.default.isExecutableFile(atPath: setpriv), "setpriv (util-linux) is not installed")
    try Through.mkdir(layer.mount + "/shared")
    XCTAssertEqual(chmod(layer.mount + "/shared", 0o1777), 0)
    try Data("root's\n".utf8).write(to: URL(fileURLWithPath: layer.mount + "/private"))
    XCTAssertEqual(chmod(layer.mount + "/private", 0o600), 0)
    let asNobody = ["--reuid", "65534", "--regid", "65534", "--clear-groups", "/bin/sh", "-c"]
    let made = try Harness.run(setpriv, asNobody + ["echo mine > \(layer.mount)/shared/by-nobody"])
    XCTAssertEqual(made.status, 0, made.stderr)
    let attributes = try FileManager.default.attributesOfItem(atPath: layer.backing + "/shared/by-nobody")
    XCTAssertEqual((attributes[.ownerAccountID] as? NSNumber)?.intValue, 65534)
    let refused = try Harness.run(setpriv, asNobody + ["cat \(layer.mount)/private"])
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("Permission denied"), refused.stderr)
  }

  func testTheControlSocketRefusesNonsense() throws {
    let reply = try layer.send(raw: "{\"explode\":{}}")
    XCTAssertNil(reply.loss)
    XCTAssertTrue(reply.error?.contains("unreadable request") ?? false, "\(reply)")
    // And the layer still answers.
    XCTAssertEqual(try layer.status().unsyncedFiles, 0)
  }

  /// A daemon killed with SIGKILL leaves a dead mount that a lazy unmount
  /// takes away, and the backing folder as the instance left it.
  func testAKilledDaemonLeavesADeadMountAndTheBackingFiles() throws {
    try Through.write(layer.mount + "/kept", at: 0, Array("unsynced but written\n".utf8), create: true)
    XCTAssertEqual(kill(layer.pid, SIGKILL), 0)
    XCTAssertTrue(layer.waitForExit())
    XCTAssertTrue(layer.isMounted, "the kernel keeps a dead FUSE mount")
    var st = stat()
    XCTAssertEqual(stat(layer.mount, &st), -1)
    // ENOTCONN once the kernel notices; ECONNABORTED while it aborts the connection.
    XCTAssertTrue([ENOTCONN, ECONNABORTED].contains(errno), "errno \(errno)")
    XCTAssertEqual(try Through.read(layer.backing + "/kept"), Array("unsynced but written\n".utf8))
    XCTAssertFalse(layer.stop(), "stop had to unmount")
    XCTAssertFalse(layer.isMounted)
    layer = nil
  }
}

/// What the daemon refuses before it mounts anything.
final class DiskLayerRefusalTests: XCTestCase {
  /// No socket file, or a socket file nobody listens on (what a killed
  /// daemon leaves): the client says the layer is not running.
  func testTheClientSaysWhenNoLayerRuns() throws {
    let dir = try Harness.tempDir("disk-client")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    XCTAssertThrowsError(try DiskLayerClient.request(.status, socket: dir + "/control.sock")) { error in
      XCTAssertEqual(error as? DiskLayerClientError, .notRunning(socket: dir + "/control.sock", errno: ENOENT))
    }
    let fd = UnixLineSocket.newSocket()
    XCTAssertEqual(UnixLineSocket.connectOrBind(fd, try XCTUnwrap(UnixLineSocket.address(dir + "/dead.sock")), bind: true), 0)
    close(fd)
    XCTAssertThrowsError(try DiskLayerClient.request(.status, socket: dir + "/dead.sock")) { error in
      XCTAssertEqual(error as? DiskLayerClientError, .notRunning(socket: dir + "/dead.sock", errno: ECONNREFUSED))
    }
  }

  /// A reply with an `error` is a refusal, not a layer that is not running.
  func testTheClientTellsARefusalApart() throws {
    let dir = try Harness.tempDir("disk-client")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let path = dir + "/control.sock"
    let listener = UnixLineSocket.newSocket()
    defer { close(listener) }
    XCTAssertEqual(UnixLineSocket.connectOrBind(listener, try XCTUnwrap(UnixLineSocket.address(path)), bind: true), 0)
    XCTAssertEqual(listen(listener, 1), 0)
    let served = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var heard: Data?
    Thread {
      let client = accept(listener, nil, nil)
      heard = UnixLineSocket.readLine(client)
      UnixLineSocket.writeLine(client, Data(#"{"error":"rule 1, \"errno\": no"}"#.utf8))
      close(client)
      served.signal()
    }.start()
    XCTAssertThrowsError(try DiskLayerClient.request(.rules(.clear), socket: path)) { error in
      XCTAssertEqual(error as? DiskLayerClientError, .refused(socket: path, message: #"rule 1, "errno": no"#))
    }
    XCTAssertEqual(served.wait(timeout: .now() + 10), .success)
    XCTAssertEqual(heard.map { String(decoding: $0, as: UTF8.self) }, #"{"rules":{"clear":{}}}"#)
  }

  func testItRefusesANonEmptyMountPointAndNestedFolders() throws {
    let dir = try Harness.tempDir("disk-refuse")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for folder in ["mount", "backing", "state"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
    }
    try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/mount/already-there"))
    let full = try Harness.cthulhu(["_disk", "--mount", dir + "/mount", "--backing", dir + "/backing", "--state", dir + "/state"])
    XCTAssertEqual(full.status, 1)
    XCTAssertTrue(full.stderr.contains("is not empty (1 entries): it would hide them"), full.stderr)
    let nested = try Harness.cthulhu(["_disk", "--mount", dir + "/backing", "--backing", dir + "/backing", "--state", dir + "/state"])
    XCTAssertEqual(nested.status, 1)
    XCTAssertTrue(nested.stderr.contains("must not be inside one another"), nested.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/state/ready"))
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/mount"), ["already-there"])
  }

  func testItNeverEmptiesAGraveyardItDidNotMake() throws {
    let dir = try Harness.tempDir("disk-foreign")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for folder in ["mount", "backing", "state/graveyard"] {
      try FileManager.default.createDirectory(atPath: dir + "/" + folder, withIntermediateDirectories: true)
    }
    try Data("mine".utf8).write(to: URL(fileURLWithPath: dir + "/state/graveyard/keep"))
    let r = try Harness.cthulhu(["_disk", "--mount", dir + "/mount", "--backing", dir + "/backing", "--state", dir + "/state"])
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("which no disk layer made"), r.stderr)
    XCTAssertEqual(try String(contentsOfFile: dir + "/state/graveyard/keep", encoding: .utf8), "mine")
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/state/ready"))
  }
}

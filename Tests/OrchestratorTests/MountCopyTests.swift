import Foundation
import XCTest

@testable import Orchestrator

/// The swarm driver's copies of an instance's mounts (``MountCopy``) and
/// the times it reads off the engine's log lines (``SwarmDriver/LogStamp``):
/// what needs no engine. The copies are read back by GNU tar, as the engine
/// unpacks them.
final class MountCopyTests: XCTestCase {
  var dir: String!

  override func setUp() {
    dir = NSTemporaryDirectory() + "mountcopy-" + UUID().uuidString
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: dir)
  }

  func write(_ rel: String, _ text: String, mode: mode_t = 0o644) throws {
    let path = dir + "/" + rel
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: false, encoding: .utf8)
    XCTAssertEqual(chmod(path, mode), 0)
  }

  /// `tar -tv --numeric-owner` of `bytes`: one line an entry, `mode uid/gid … name[ -> link]`.
  func listing(_ bytes: [UInt8]) throws -> [String] {
    XCTAssertEqual(bytes.count % 512, 0)
    let file = dir + ".tar"
    defer { try? FileManager.default.removeItem(atPath: file) }
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["tar", "-tv", "--numeric-owner", "--full-time", "-f", file]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, out)
    return out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
  }

  /// The entry named `name` in a listing: `[mode, uid/gid, size, date, time, name, ...]`.
  func entry(_ lines: [String], _ name: String) -> [String]? {
    lines.map { $0.split(separator: " ").map(String.init) }.first { $0.count >= 6 && $0[5] == name }
  }

  func testMountsKeepModesOwnersTimesAndLinksAndTheLogIsALinkToStandardOutput() throws {
    try write("10.0.0.2/bindmounts/etc/config.json", "{}\n", mode: 0o640)
    try write("10.0.0.2/bindmounts/etc/sub/deep.conf", "x=1\n", mode: 0o600)
    try write("10.0.0.2/bindmounts/var/i001.log", "pulled before\n")
    try write("10.0.0.2/bindmounts/var/seed.txt", "kept\n", mode: 0o664)
    XCTAssertEqual(symlink("/etc/passwd", dir + "/10.0.0.2/bindmounts/etc/passwd-link"), 0)
    let me = (getuid(), getgid())
    // As root the owners are an instance's (1234:2345); otherwise our own.
    let owner: (uid_t, gid_t) = me.0 == 0 ? (1234, 2345) : me
    XCTAssertEqual(chown(dir + "/10.0.0.2/bindmounts/etc/config.json", owner.0, owner.1), 0)
    XCTAssertEqual(chown(dir + "/10.0.0.2/bindmounts/var", owner.0, owner.1), 0)
    XCTAssertEqual(chmod(dir + "/10.0.0.2/bindmounts/etc/sub", 0o750), 0)
    var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
    XCTAssertEqual(utimensat(AT_FDCWD, dir + "/10.0.0.2/bindmounts/etc/sub/deep.conf", &times, 0), 0)

    let binds = [
      Bind(host: dir + "/10.0.0.2/bindmounts/etc", container: "/opt/app/etc"),
      Bind(host: dir + "/10.0.0.2/bindmounts/var", container: "/opt/app/var"),
    ]
    let lines = try listing(try MountCopy.archive(binds: binds, instance: "i001"))
    let names = lines.compactMap { $0.split(separator: " ").dropFirst(5).first.map(String.init) }
    XCTAssertEqual(
      names,
      [
        "opt/app/etc/", "opt/app/etc/config.json", "opt/app/etc/passwd-link", "opt/app/etc/sub/", "opt/app/etc/sub/deep.conf",
        "opt/app/var/", "opt/app/var/seed.txt", "opt/app/var/i001.log",
      ], lines.joined(separator: "\n"))
    XCTAssertEqual(entry(lines, "opt/app/etc/config.json")?.prefix(3), ["-rw-r-----", "\(owner.0)/\(owner.1)", "3"])
    XCTAssertEqual(entry(lines, "opt/app/etc/sub/")?.first, "drwxr-x---")
    XCTAssertEqual(entry(lines, "opt/app/var/")?[1], "\(owner.0)/\(owner.1)")
    XCTAssertEqual(entry(lines, "opt/app/var/seed.txt")?.first, "-rw-rw-r--")
    // The link is a link (its target not read), and so is the log: to the
    // instance's standard output, what the engine keeps.
    XCTAssertEqual(entry(lines, "opt/app/etc/passwd-link")?.suffix(2), ["->", "/etc/passwd"])
    XCTAssertEqual(entry(lines, "opt/app/var/i001.log")?.suffix(2), ["->", MountCopy.logLink])
    // Times as on this machine (2023-11-14 22:13:20 UTC, shown in local time).
    let shown = try XCTUnwrap(entry(lines, "opt/app/etc/sub/deep.conf"))
    var t = time_t(1_700_000_000)
    var local = tm()
    localtime_r(&t, &local)
    XCTAssertEqual(shown[3], String(format: "%04d-%02d-%02d", local.tm_year + 1900, local.tm_mon + 1, local.tm_mday))
  }

  func testRenderedFilesAloneWithTheirFolders() throws {
    try write("10.0.0.2/bindmounts/etc/config.json", "{}\n", mode: 0o640)
    try write("10.0.0.2/bindmounts/etc/sub/deep.conf", "x=2\n")
    try write("10.0.0.2/bindmounts/etc/not-rendered.txt", "left out\n")
    let binds = [
      Bind(host: dir + "/10.0.0.2/bindmounts/etc", container: "/opt/app/etc"),
      Bind(host: dir + "/10.0.0.2/bindmounts/var", container: "/opt/app/var"),
    ]
    let lines = try listing(try MountCopy.archive(binds: binds, files: ["etc/sub/deep.conf", "etc/config.json", "nowhere/x"]))
    let names = lines.compactMap { $0.split(separator: " ").dropFirst(5).first.map(String.init) }
    XCTAssertEqual(names, ["opt/app/etc/", "opt/app/etc/config.json", "opt/app/etc/sub/", "opt/app/etc/sub/deep.conf"])
  }

  func testAMountPathThatIsNotAbsoluteOrClimbsIsRefused() {
    for bad in ["opt/app", "/opt/../etc", "/"] {
      XCTAssertThrowsError(try MountCopy.inContainer(bad), bad) { XCTAssertEqual(($0 as? DriverError)?.code, .unsupported) }
    }
  }

  func testLogStamps() throws {
    let a = try XCTUnwrap(SwarmDriver.LogStamp("2026-12-02T11:20:33.123456789Z"))
    XCTAssertEqual(a.seconds, 1_796_210_433)
    XCTAssertEqual(a.nanos, 123_456_789)
    // Go trims trailing zeros in RFC3339Nano; an offset is taken off.
    XCTAssertEqual(SwarmDriver.LogStamp("2026-12-02T11:20:33.5Z"), SwarmDriver.LogStamp(seconds: a.seconds, nanos: 500_000_000))
    XCTAssertEqual(SwarmDriver.LogStamp("2026-12-02T12:20:33Z"), SwarmDriver.LogStamp("2026-12-02T13:20:33+01:00"))
    XCTAssertLessThan(a, SwarmDriver.LogStamp("2026-12-02T11:20:33.123456790Z")!)
    XCTAssertNil(SwarmDriver.LogStamp("hello world"))
    XCTAssertNil(SwarmDriver.LogStamp("2026-12-02T11:20:33"))
  }
}

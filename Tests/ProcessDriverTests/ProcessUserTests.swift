import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// Root cthulhu, process driver: an instance runs as the owner of the
/// manifest's folder (a throwaway uid, 4242, with no passwd entry), can
/// write its `var` and read its `etc`, and cannot write a root-owned folder
/// outside its own; in namespaces mode it enters its namespace first.
///
/// Everything lives in one temporary folder: the project (owned by 4242),
/// and a root-owned folder the instance must not be able to write.
final class ProcessUserTests: XCTestCase {
  static let uid: UInt32 = 4242
  var base = ""
  var fixture = ""
  var project: String { base + "/project" }
  var guarded: String { base + "/guarded" }
  var root: String { project + "/cthulhu-fixture" }

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.require(geteuid() == 0, "running instances as another user needs root")
    try Host.require(HostCommand.locate("setpriv") != nil, "setpriv is missing (apt install util-linux)")
    fixture = Host.uniqueName("puser")
    base = try Host.tempDir(fixture)
    XCTAssertEqual(chmod(base, 0o755), 0)
    for d in [project + "/templates", guarded] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
    XCTAssertEqual(chown(project, Self.uid, Self.uid), 0)
    XCTAssertEqual(chmod(guarded, 0o755), 0)
    try "secret of {{ instance.name }}\n".write(toFile: project + "/templates/secret.conf", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    guard !base.isEmpty else { return }
    if FileManager.default.fileExists(atPath: root) { _ = try? cthulhu("destroy", "--fixture", root) }
    Host.removeLeftovers(fixture: fixture)
    try? FileManager.default.removeItem(atPath: base)
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Host.Run { try Host.run(Host.cthulhuBinary, args, in: project) }

  func writeManifest(mode: String, user: String? = nil) throws {
    let b = Host.busybox
    // Tries the root-owned folder, then reports who it is and what it read.
    let script =
      "\(b) touch '\(guarded)/escaped'; \(b) cat \"$CTHULHU_MOUNT_ETC/secret.conf\" > \"$CTHULHU_MOUNT_VAR/read\"; \(b) id -u > \"$CTHULHU_MOUNT_VAR/uid.tmp\" && \(b) mv \"$CTHULHU_MOUNT_VAR/uid.tmp\" \"$CTHULHU_MOUNT_VAR/uid\"; exec \(b) sleep 1000"
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: \(mode) }
    groups:
      node:
        command: ["\(b)", "sh", "-c", "\(script.replacingOccurrences(of: "\"", with: "\\\""))"]
        templates:
          - { source: templates/secret.conf, target: etc/secret.conf, mode: "0600" }
        stop_timeout: 1s
    \(user.map { "    user: \"\($0)\"" } ?? "")

    """.write(toFile: project + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  func folder() throws -> String { root + "/" + (try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")) }

  func owner(_ path: String) -> String {
    var st = stat()
    guard lstat(path, &st) == 0 else { return "missing" }
    return "\(st.st_uid):\(st.st_gid)"
  }

  /// The `Uid:` and `Gid:` lines (real, effective, saved, fs) and `Groups:` of a process.
  func ids(_ pid: String) throws -> [String] {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    return status.split(separator: "\n").filter { $0.hasPrefix("Uid:") || $0.hasPrefix("Gid:") || $0.hasPrefix("Groups:") }
      .map { $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ") }
  }

  /// Applies, then waits until the instance has written its uid; returns its folder and PID.
  func applyAndWait(uid expected: UInt32) async throws -> (folder: String, pid: String) {
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let dir = try folder()
    try await Host.eventually("the instance wrote its uid", within: 10) {
      (try? String(contentsOfFile: dir + "/bindmounts/var/uid", encoding: .utf8)) == "\(expected)\n"
    }
    let pid = try String(contentsOfFile: dir + "/pid.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    return (dir, pid)
  }

  /// A fixture under a folder its instances' user cannot search (as
  /// `mktemp -d` makes one) is refused by `plan` and `apply` in one sentence
  /// naming the folder and its mode, and nothing is made.
  func testAFolderTheInstancesUserCannotReachIsRefusedAtPlan() throws {
    XCTAssertEqual(chmod(base, 0o700), 0)
    try writeManifest(mode: "loopback")
    for verb in ["plan", "apply"] {
      let r = try cthulhu(verb)
      XCTAssertEqual(r.status, 1, verb + ": " + r.stdout + r.stderr)
      XCTAssertTrue(
        r.stderr.contains("who cannot reach the fixture's folder \(root): \(base) has mode 0700 (rwx------), owner uid 0, gid 0"),
        verb + ": " + r.stderr)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), "nothing is made")
  }

  func testRootRunsAnInstanceAsTheOwnerOfTheManifestsFolder() async throws {
    try writeManifest(mode: "loopback")
    let plan = try cthulhu("plan")
    XCTAssertTrue(plan.stdout.contains("        # as uid 4242, gid 4242\n"), plan.stdout + plan.stderr)

    let (dir, pid) = try await applyAndWait(uid: Self.uid)
    XCTAssertEqual(try ids(pid), ["Uid: 4242 4242 4242 4242", "Gid: 4242 4242 4242 4242", "Groups:"], "no supplementary group of root's")
    // It could not write outside its folder, and said so in its log.
    XCTAssertFalse(FileManager.default.fileExists(atPath: guarded + "/escaped"))
    let log = try String(contentsOfFile: dir + "/bindmounts/var/i001.log", encoding: .utf8)
    XCTAssertTrue(log.contains("Permission denied"), log)
    // It read its 0600 etc file and wrote its var: they are its own.
    XCTAssertEqual(try String(contentsOfFile: dir + "/bindmounts/var/read", encoding: .utf8), "secret of i001\n")
    for p in ["bindmounts/etc", "bindmounts/etc/secret.conf", "bindmounts/var", "bindmounts/var/i001.log", "bindmounts/var/uid"] {
      XCTAssertEqual(owner(dir + "/" + p), "4242:4242", p)
    }
    // What its users run, and the folders that hold its mounts, stay root's.
    for p in ["", "/bindmounts", "/control", "/pid.txt"] { XCTAssertEqual(owner(dir + p), "0:0", p) }
    XCTAssertEqual(owner(root), "0:0")

    // exec runs as the instance does; status and a converged plan say so.
    let exec = try cthulhu("exec", "--fixture", root, "i001", "--", Host.busybox, "id", "-u")
    XCTAssertEqual(exec.stdout, "4242\n", exec.stderr)
    let status = try cthulhu("status", "--fixture", root)
    XCTAssertTrue(status.stdout.contains("USER") && status.stdout.contains(" 4242:4242 "), status.stdout)
    let again = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(again.status, 0, again.stdout + again.stderr)

    // Plant a link and a hard link to root's files in var; a user change
    // replaces the instance and gives its var to the new user, not them.
    for name in ["target", "hard-target"] {
      try "root's\n".write(toFile: guarded + "/" + name, atomically: false, encoding: .utf8)
    }
    XCTAssertEqual(symlink(guarded + "/target", dir + "/bindmounts/var/link"), 0)
    XCTAssertEqual(link(guarded + "/hard-target", dir + "/bindmounts/var/hard"), 0)
    try writeManifest(mode: "loopback", user: "4343:4343")
    let change = try cthulhu("plan")
    XCTAssertTrue(change.stdout.contains("-/+ instance:i001") && change.stdout.contains("# user 4242:4242 → 4343:4343"), change.stdout)
    let (_, newPID) = try await applyAndWait(uid: 4343)
    XCTAssertEqual(try ids(newPID)[0], "Uid: 4343 4343 4343 4343")
    XCTAssertEqual(owner(dir + "/bindmounts/var/uid"), "4343:4343")
    XCTAssertEqual(owner(dir + "/bindmounts/var/read"), "4343:4343", "files of the old user are given to the new one")
    XCTAssertEqual(owner(guarded + "/target"), "0:0", "a link is never followed")
    XCTAssertEqual(owner(guarded + "/hard-target"), "0:0", "a file with another name is left alone")
    XCTAssertEqual(owner(guarded), "0:0")

    let destroy = try cthulhu("destroy")
    XCTAssertEqual(destroy.status, 0, destroy.stdout + destroy.stderr)
    XCTAssertEqual(Host.processes(fixture: fixture), [])
  }

  func testNamespacesModeEntersTheNamespaceThenDrops() async throws {
    try Host.requireRoot()
    try writeManifest(mode: "namespaces")
    let (dir, pid) = try await applyAndWait(uid: Self.uid)
    XCTAssertEqual(try ids(pid)[0], "Uid: 4242 4242 4242 4242")
    var mine = stat()
    var theirs = stat()
    XCTAssertEqual(stat("/proc/\(pid)/ns/net", &mine), 0)
    XCTAssertEqual(stat(Namespaces.path(namespace: Namespaces.namespace(fixture: fixture, instance: "i001")), &theirs), 0)
    XCTAssertEqual(mine.st_ino, theirs.st_ino, "it runs in its own network namespace")
    XCTAssertFalse(FileManager.default.fileExists(atPath: guarded + "/escaped"))
    XCTAssertTrue(try String(contentsOfFile: dir + "/bindmounts/var/i001.log", encoding: .utf8).contains("Permission denied"))
    let exec = try cthulhu("exec", "--fixture", root, "i001", "--", Host.busybox, "id", "-u")
    XCTAssertEqual(exec.stdout, "4242\n", exec.stderr)
  }
}

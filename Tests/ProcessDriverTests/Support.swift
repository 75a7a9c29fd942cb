import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// Host checks for the process driver's tests; the built binary, program
/// runs and skip-or-fail come from TestSupport's ``Harness``.
enum Host {
  typealias Run = TestSupport.Run

  static var cthulhuBinary: String { Harness.binary }

  /// Runs a program with its output in files (a chatty child never blocks
  /// on a pipe, and a detached instance holding a pipe cannot hang us).
  @discardableResult
  static func run(_ exe: String, _ args: [String], in dir: String? = nil, env: [String: String] = [:]) throws -> Run {
    try Harness.run(exe, args, in: dir, env: env)
  }

  static func sh(_ script: String) throws -> Run { try run("/bin/sh", ["-c", script]) }

  static func require(_ condition: Bool, _ why: String) throws { try Harness.require(condition, why) }

  static let busybox = "/bin/busybox"

  static func requireBusybox() throws {
    try require(FileManager.default.isExecutableFile(atPath: busybox), "\(busybox) is missing (apt install busybox-static)")
  }

  /// Namespaces mode needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2.
  static func requireRoot() throws {
    let caps = ProcFS.effectiveCapabilities() ?? 0
    try require(caps & (1 << 12) != 0 && caps & (1 << 21) != 0, "network.mode: namespaces needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)")
    try require(HostCommand.locate("ip") != nil && HostCommand.locate("iptables") != nil, "ip (iproute2) or iptables is missing")
  }

  static func tempDir(_ tag: String) throws -> String { try Harness.tempDir(tag) }

  static func uniqueName(_ prefix: String) -> String { Harness.uniqueName(prefix) }

  // MARK: - What a fixture may leave behind

  /// Live processes whose environment names this fixture (instances, and
  /// what exec and health checks run, have `CTHULHU_FIXTURE`), and whose
  /// command line holds `command` when given.
  static func processes(fixture: String, command: String? = nil) -> [Int32] {
    let needle = "CTHULHU_FIXTURE=\(fixture)"
    return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> Int32? in
      guard let pid = Int32(name), let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
        let s = ProcStat.read(pid), s.state != "Z"
      else { return nil }
      if let command {
        guard let argv = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
          String(decoding: argv, as: UTF8.self).contains(command)
        else { return nil }
      }
      return env.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == needle } ? pid : nil
    }
  }

  static func namespaces(fixture: String) throws -> [String] {
    let prefix = "cth-" + Namespaces.hash(fixture)
    return try sh("ip netns list").stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }.filter { $0.hasPrefix(prefix) }
  }

  static func links(fixture: String) throws -> [String] {
    let h = Namespaces.hash(fixture)
    return try sh("ip -o link show").stdout.split(separator: "\n").compactMap { line -> String? in
      let name = line.split(separator: " ")[1].split(separator: "@")[0].trimmingCharacters(in: CharacterSet(charactersIn: ":"))
      return name.contains(h) ? name : nil
    }
  }

  static func rules(fixture: String) throws -> [String] {
    try sh("iptables -w -S").stdout.split(separator: "\n").map(String.init).filter {
      $0.contains("cthulhu:\(fixture)\"") || $0.contains("cthulhu:\(fixture) ")
    }
  }

  /// Kills what a failed test left (only processes of its own fixture).
  static func killLeftovers(fixture: String) {
    for pid in processes(fixture: fixture) { kill(-pid, SIGKILL); kill(pid, SIGKILL) }
  }

  /// Removes what a failed test of `fixture` left: its processes, and (as
  /// root) its namespaces, links and iptables rules, and its registry entry.
  /// Everything removed is named by the fixture.
  static func removeLeftovers(fixture: String) {
    killLeftovers(fixture: fixture)
    if (ProcFS.effectiveCapabilities() ?? 0) & (1 << 12) != 0 {
      for ns in (try? namespaces(fixture: fixture)) ?? [] { _ = try? sh("ip netns del \(ns)") }
      for l in (try? links(fixture: fixture)) ?? [] { _ = try? sh("ip link del \(l)") }
      for r in (try? rules(fixture: fixture)) ?? [] { _ = try? sh("iptables -w " + r.replacingOccurrences(of: "-A ", with: "-D ")) }
    }
    try? FileManager.default.removeItem(atPath: ProcessRegistry.folder(environment: ProcessInfo.processInfo.environment) + "/" + fixture)
  }

  /// Polls `condition` until it holds or `seconds` pass.
  static func eventually(_ what: String, within seconds: Double = 10, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try await condition() { return }
      try await Task.sleep(for: .milliseconds(20))
    }
    XCTFail("not within \(seconds)s: \(what)")
  }
}

/// A test case with a fixture of its own, driven through the built binary:
/// a temporary folder (`dir`) with its manifest, the fixture in
/// `dir/cthulhu-fixture` (`root`). Its `tearDown` destroys the fixture and
/// removes what a failed test left: the fixture's processes, namespaces and
/// links, then the folder. Everything it removes is named by this fixture.
class FixtureTestCase: XCTestCase {
  var dir = ""
  var fixture = ""
  var root: String { dir + "/cthulhu-fixture" }

  /// Makes the test's folder; `prefix` starts the fixture's name.
  func makeFolder(_ prefix: String) throws {
    fixture = Host.uniqueName(prefix)
    dir = try Host.tempDir(fixture)
  }

  override func tearDown() async throws {
    guard !fixture.isEmpty else { return }
    if FileManager.default.fileExists(atPath: root) { _ = try? cthulhu("destroy", "--fixture", root) }
    Host.removeLeftovers(fixture: fixture)
    try? FileManager.default.removeItem(atPath: dir)
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Host.Run { try Host.run(Host.cthulhuBinary, args, in: dir) }

  @discardableResult
  func mustSucceed(_ args: String..., file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let r = try Host.run(Host.cthulhuBinary, args, in: dir)
    XCTAssertEqual(r.status, 0, "cthulhu \(args.joined(separator: " ")): \(r.stdout)\(r.stderr)", file: file, line: line)
    return r.stdout
  }

  /// The address `root/NAME` links to.
  func ip(_ name: String) throws -> String { try FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name) }
}

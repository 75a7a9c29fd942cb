import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// `driver: process` through the built `cthulhu` binary, in both network
/// modes: three busybox web servers that reach each other on their own
/// addresses, scaled, killed, paused, destroyed without a trace, and
/// converged again after a cthulhu is SIGKILLed mid-apply.
final class ProcessEndToEndTests: FixtureTestCase {
  var manifest: String { dir + "/cthulhu.yaml" }

  override func setUp() async throws {
    try Host.requireBusybox()
    try makeFolder("pe2e")
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try """
    {"self": "{{ instance.ip }}", "name": "{{ instance.name }}", "etc": "{{ mounts.etc }}", "peers": [{% for p in peers %}"{{ p.ip }}"{% if not forloop.last %}, {% endif %}{% endfor %}]}

    """.write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
  }

  func writeManifest(count: Int, mode: String) throws {
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: \(mode) }
    groups:
      node:
        count: \(count)
        command: ["\(Host.busybox)", "sh", "-c", "exec \(Host.busybox) httpd -f -v -p \\"$CTHULHU_IP:8080\\" -h \\"$CTHULHU_MOUNT_ETC\\""]
        templates:
          - { source: templates/config.json, target: etc/config.json }
        healthcheck:
          command: ["\(Host.busybox)", "sh", "-c", "printf 'GET /config.json HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | \(Host.busybox) nc \\"$CTHULHU_IP\\" 8080 | \(Host.busybox) grep -q '200 OK'"]
          interval: 200ms
          retries: 25
        stop_timeout: 2s

    """.write(toFile: manifest, atomically: true, encoding: .utf8)
  }

  /// `from` gets `to`'s config.json over HTTP, run as an exec in `from`.
  func fetch(_ from: String, _ to: String) throws -> String {
    // nc's -w bounds the connect only; a paused server accepts (the kernel
    // does) and never answers, so the whole exchange gets two seconds (busybox
    // timeout leaves a watcher process behind for that long).
    let get = "printf 'GET /config.json HTTP/1.0\\r\\n\\r\\n' | \(Host.busybox) timeout 2 \(Host.busybox) nc -w 1 \(try ip(to)) 8080"
    return try cthulhu("exec", "--fixture", root, from, "--", Host.busybox, "sh", "-c", get).stdout
  }

  func reaches(_ from: String, _ to: String) throws -> Bool {
    try fetch(from, to).contains("\"name\": \"\(to)\"")
  }

  func states() throws -> [String: String] {
    let r = try cthulhu("status", "--json", "--fixture", root)
    let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
    return Dictionary(rows.map { ($0["name"] as! String, $0["state"] as! String) }, uniquingKeysWith: { a, _ in a })
  }

  func pid(_ name: String) throws -> Int32 {
    Int32(try String(contentsOfFile: root + "/\(try ip(name))/pid.txt", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
  }

  // MARK: - Scenarios

  func testLoopbackFixtureEndToEnd() async throws {
    try await scenario(mode: "loopback")
  }

  func testNamespacesFixtureEndToEnd() async throws {
    try Host.requireRoot()
    try await scenario(mode: "namespaces")
  }

  func scenario(mode: String) async throws {
    try writeManifest(count: 3, mode: mode)
    try mustSucceed("apply")
    XCTAssertEqual(try states(), ["i001": "running", "i002": "running", "i003": "running"])
    let ip1 = try ip("i001")
    XCTAssertTrue(mode == "loopback" ? ip1.hasPrefix("127.77.") : ip1.hasPrefix("10.77."), ip1)
    // The instance outlived the cthulhu that started it, leads its own
    // session, and its log is in var/.
    let p1 = try pid("i001")
    let stat = try XCTUnwrap(ProcStat.read(p1))
    XCTAssertEqual(stat.session, p1)
    XCTAssertEqual(stat.state, "S")
    XCTAssertTrue(FileManager.default.fileExists(atPath: root + "/\(ip1)/bindmounts/var/i001.log"))
    // Templates see the host folder of each mount.
    let config = try String(contentsOfFile: root + "/\(ip1)/bindmounts/etc/config.json", encoding: .utf8)
    XCTAssertTrue(config.contains("\"etc\": \"\(root)/\(ip1)/bindmounts/etc\""), config)

    XCTAssertTrue(try reaches("i001", "i002"))
    XCTAssertTrue(try reaches("i003", "i001"))
    XCTAssertEqual(try cthulhu("plan", "--detailed-exitcode").status, 0, "a second apply has nothing to do")

    if mode == "loopback" {
      let r = try cthulhu("partition", "--fixture", root, "i001", "i002,i003")
      XCTAssertEqual(r.status, 1)
      XCTAssertTrue(r.stderr.contains("network.mode: namespaces"), r.stderr)
      // Without root as well: what to change is the mode, not the user.
      let setpriv = "/usr/bin/setpriv"
      if FileManager.default.isExecutableFile(atPath: setpriv) {
        let np = try Host.run(
          setpriv, ["--bounding-set=-net_admin,-sys_admin", Host.cthulhuBinary, "partition", "--fixture", root, "i001", "i002"], in: dir)
        XCTAssertEqual(np.status, 1)
        XCTAssertTrue(np.stderr.contains("network.mode: namespaces") && !np.stderr.contains("sudo"), np.stderr)
      }
    } else {
      try mustSucceed("partition", "--fixture", root, "i001", "i002,i003")
      XCTAssertFalse(try reaches("i001", "i002"))
      XCTAssertTrue(try reaches("i002", "i003"))
      try mustSucceed("heal", "--fixture", root)
      XCTAssertTrue(try reaches("i001", "i002"))
    }

    // Scale up, then down: the highest go, the rest keep name, address and process.
    try writeManifest(count: 5, mode: mode)
    try mustSucceed("apply")
    XCTAssertEqual(try states().values.filter { $0 == "running" }.count, 5)
    XCTAssertTrue(try reaches("i005", "i001"))
    XCTAssertEqual(try ip("i001"), ip1)
    try writeManifest(count: 2, mode: mode)
    try mustSucceed("apply")
    XCTAssertEqual(try states(), ["i001": "running", "i002": "running"])
    let procs = Host.processes(fixture: fixture, command: "httpd")
    let shown = try Host.sh("ps -o pid,ppid,stat,cmd -p \(procs.map(String.init).joined(separator: ","))").stdout
    XCTAssertEqual(Set(procs), Set([try pid("i001"), try pid("i002")]), shown)

    // Kill and start again; restart.
    let p2 = try pid("i002")
    try mustSucceed("kill", "--fixture", root, "i002")
    XCTAssertEqual(try states()["i002"], "exited")
    XCTAssertTrue(ProcStat.read(p2).map { $0.state == "Z" } ?? true, "gone (or a zombie where PID 1 reaps nothing)")
    try mustSucceed("start", "--fixture", root, "i002")
    XCTAssertEqual(try states()["i002"], "running")
    XCTAssertNotEqual(try pid("i002"), p2)
    try await eventuallyReaches("i001", "i002")
    try mustSucceed("restart", "--fixture", root, "i001")
    XCTAssertNotEqual(try pid("i001"), p1)
    try await eventuallyReaches("i002", "i001")

    // Pause: the process is stopped (it answers nothing), unpause resumes it.
    try mustSucceed("pause", "--fixture", root, "i002")
    XCTAssertEqual(try states()["i002"], "paused")
    XCTAssertEqual(ProcStat.read(try pid("i002"))?.state, "T")
    XCTAssertFalse(try reaches("i001", "i002"))
    try mustSucceed("unpause", "--fixture", root, "i002")
    XCTAssertTrue(try reaches("i001", "i002"))

    // Logs are the instances' output.
    let logs = try cthulhu("logs", "--fixture", root, "i002")
    XCTAssertTrue(logs.stdout.contains("response:200"), logs.stdout)

    try mustSucceed("destroy")
    try assertNothingLeft()
  }

  func eventuallyReaches(_ from: String, _ to: String) async throws {
    try await Host.eventually("\(from) reaches \(to)", within: 10) { try self.reaches(from, to) }
  }

  /// No process, namespace, link, rule or record of the fixture is left.
  func assertNothingLeft(file: StaticString = #filePath, line: UInt = #line) throws {
    XCTAssertEqual(
      Host.processes(fixture: fixture, command: "httpd"), [],
      "processes: " + ((try? Host.sh("ps -eo pid,ppid,stat,cmd | grep \(fixture)").stdout) ?? ""), file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: root), file: file, line: line)
    let registry = ProcessRegistry.folder(environment: ProcessInfo.processInfo.environment)
    XCTAssertFalse(
      FileManager.default.fileExists(atPath: registry + "/" + fixture),
      "registry records: \((try? FileManager.default.contentsOfDirectory(atPath: registry + "/" + fixture)) ?? [])", file: file, line: line)
    guard (ProcFS.effectiveCapabilities() ?? 0) & (1 << 12) != 0 else { return }
    XCTAssertEqual(try Host.namespaces(fixture: fixture), [], "namespaces", file: file, line: line)
    XCTAssertEqual(try Host.links(fixture: fixture), [], "links", file: file, line: line)
    XCTAssertEqual(try Host.rules(fixture: fixture), [], "iptables rules", file: file, line: line)
  }

  // MARK: - Crashes

  func testLoopbackConvergesAfterApplyAndDestroyAreKilled() async throws {
    try await killedMidway(mode: "loopback")
  }

  func testNamespacesConvergeAfterApplyAndDestroyAreKilled() async throws {
    try Host.requireRoot()
    try await killedMidway(mode: "namespaces")
  }

  /// SIGKILLs apply (and destroy) at growing delays; the next apply always
  /// converges, with exactly one process an instance, and destroy leaves nothing.
  func killedMidway(mode: String) async throws {
    for (k, delay) in [0.005, 0.015, 0.03, 0.05, 0.08].enumerated() {
      try writeManifest(count: 4 + k % 2, mode: mode)
      let p = Process()
      p.executableURL = URL(fileURLWithPath: Host.cthulhuBinary)
      p.arguments = ["apply"]
      p.currentDirectoryURL = URL(fileURLWithPath: dir)
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      try await Task.sleep(for: .seconds(delay))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      try mustSucceed("apply")
      XCTAssertEqual(try cthulhu("plan", "--detailed-exitcode").status, 0, "converged after a kill at \(delay)s")
      let s = try states()
      XCTAssertEqual(s.count, 4 + k % 2)
      XCTAssertTrue(s.values.allSatisfy { $0 == "running" }, "\(s)")
      XCTAssertEqual(Host.processes(fixture: fixture, command: "httpd").count, 4 + k % 2, "one process an instance")
      XCTAssertTrue(try reaches("i001", "i002"))
    }
    let d = Process()
    d.executableURL = URL(fileURLWithPath: Host.cthulhuBinary)
    d.arguments = ["destroy"]
    d.currentDirectoryURL = URL(fileURLWithPath: dir)
    d.standardOutput = FileHandle.nullDevice
    d.standardError = FileHandle.nullDevice
    try d.run()
    try await Task.sleep(for: .milliseconds(10))
    kill(d.processIdentifier, SIGKILL)
    d.waitUntilExit()
    if FileManager.default.fileExists(atPath: root) { try mustSucceed("destroy") }
    try assertNothingLeft()
  }

  // MARK: - Root

  /// Without CAP_NET_ADMIN, namespaces mode fails at once with one sentence.
  func testNamespacesWithoutRootSayWhatIsNeeded() async throws {
    try writeManifest(count: 1, mode: "namespaces")
    var r: Host.Run
    if geteuid() == 0 {
      try Host.require(HostCommand.locate("setpriv") != nil, "setpriv (util-linux) is missing")
      _ = try Host.sh("chmod -R a+rwX \(dir) && chmod a+x \(NSTemporaryDirectory())")
      r = try Host.run(
        HostCommand.locate("setpriv")!, ["--reuid=65534", "--regid=65534", "--clear-groups", Host.cthulhuBinary, "apply"], in: dir,
        env: ["HOME": dir, "XDG_RUNTIME_DIR": ""])
    } else {
      r = try cthulhu("apply")
    }
    XCTAssertEqual(r.status, 1)
    XCTAssertTrue(r.stderr.contains("needs root (CAP_NET_ADMIN"), r.stderr)
    XCTAssertFalse(r.stdout.contains("after 5."), "no waiting for an engine: \(r.stdout)")
  }
}

import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// `driver: swarm` end to end on a real Docker Swarm: the one
/// `scripts/swarm.sh up 3` makes on this machine (`scripts/test.sh` starts
/// it, sets CTHULHU_TEST_SWARM=1 and CTHULHU_TEST_SWARM_HOST to its
/// manager, and takes it down after). Only these tests talk to the swarm;
/// the other Docker tests keep the main engine. Under CI=true without a
/// swarm they fail.
final class SwarmTests: XCTestCase {
  var dir: String!
  var fixture: String!
  var driver: SwarmDriver!
  var env: [String: String] = [:]

  override func setUp() async throws {
    let e = ProcessInfo.processInfo.environment
    try Harness.require(e["CTHULHU_TEST_SWARM"] == "1", "CTHULHU_TEST_SWARM is not 1 (scripts/test.sh sets it after scripts/swarm.sh up 3)")
    let host = try XCTUnwrap(e["CTHULHU_TEST_SWARM_HOST"], "CTHULHU_TEST_SWARM_HOST names the swarm's manager")
    env = ["DOCKER_HOST": host]
    driver = try SwarmDriver(environment: env)
    let nodes = try await driver.nodes()
    try Harness.require(nodes.filter(\.schedulable).count >= 2, "the swarm at \(host) has fewer than 2 ready nodes")
    try Harness.require(try await driver.imageID("cthulhu-test:latest") != nil, "cthulhu-test:latest is not on every node")
    dir = try Harness.tempDir("swarm")
    fixture = Harness.uniqueName("sw")
    try EngineFixture.WebNodes.writeTemplates(in: dir, peer: "{{ p.name }}={{ p.ip }}")
  }

  override func tearDown() async throws {
    guard let driver else { return }
    if let dir {
      _ = try? await FixtureController(driver: driver).destroy(root: dir + "/cthulhu-fixture", fixture: fixture)
      try? FileManager.default.removeItem(atPath: dir)
    }
    try await driver.shutdown()
  }

  func writeManifest(count: Int, tuning: String = "1") throws {
    try EngineFixture.WebNodes.manifest(fixture: fixture, driver: "swarm", count: count, tuning: tuning)
      .write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  func cthulhu(_ args: String...) throws -> Run { try Harness.cthulhu(args, in: dir, env: env) }

  /// Instance name → (container id, node, ip) from the engines.
  func live() async throws -> [String: (id: String, node: String, ip: String)] {
    var out: [String: (String, String, String)] = [:]
    for c in try await driver.containers(fixture: fixture) {
      out[c.labels[Labels.instance]!] = (c.id, String(c.id.split(separator: ":")[0]), c.ip?.description ?? "-")
    }
    return out
  }

  func spec() throws -> [String: [String: Any]] {
    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/cthulhu-fixture/spec.json"))
    return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
  }

  /// `from` fetches `target`:8080/config.json (busybox nc; its wget
  /// segfaults here), retried until `deadline`; returns what it got.
  func fetch(from id: String, _ target: String, seconds: Double = 15) async throws -> String {
    let cmd = ["sh", "-c", "printf 'GET /config.json HTTP/1.0\\r\\n\\r\\n' | nc -w 1 \(target) 8080"]
    let deadline = Date().addingTimeInterval(seconds)
    while true {
      let r = try await driver.exec(id: id, command: cmd)
      if r.stdout.contains("200 OK") || Date() > deadline { return r.stdout + r.stderr }
      try await Task.sleep(for: .milliseconds(200))
    }
  }

  func startTimes() async throws -> [String: Date] {
    var out: [String: Date] = [:]
    for c in try await driver.containers(fixture: fixture) {
      out[c.labels[Labels.instance]!] = try await driver.inspect(id: c.id).startedAt
    }
    return out
  }

  func testSpreadCrossNodeTrafficScaleChangeKillStartDestroy() async throws {
    try writeManifest(count: 3)
    var r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 2, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), r.stdout)
    XCTAssertTrue(r.stdout.contains("# on node "), "the plan shows placement: \(r.stdout)")
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let three = try await live()
    XCTAssertEqual(Set(three.keys), ["i001", "i002", "i003"])

    // Scale 3 → 6: the first three keep name, node and address.
    try writeManifest(count: 6)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    var now = try await live()
    XCTAssertEqual(now.keys.sorted(), ["i001", "i002", "i003", "i004", "i005", "i006"])
    for n in ["i001", "i002", "i003"] {
      XCTAssertEqual(now[n]?.node, three[n]?.node, "\(n) stays on its node")
      XCTAssertEqual(now[n]?.ip, three[n]?.ip, "\(n) keeps its address")
    }
    let nodes = Set(now.values.map(\.node))
    XCTAssertGreaterThanOrEqual(nodes.count, 2, "6 instances spread over the swarm: \(now)")

    // spec.json gives each instance's ip, node and root.
    let s = try spec()
    for (name, c) in now {
      XCTAssertEqual(s[name]?["ip"] as? String, c.ip, name)
      XCTAssertEqual(s[name]?["node"] as? String, c.node, name)
      XCTAssertEqual(s[name]?["id"] as? String, c.id, name)
      XCTAssertEqual(s[name]?["root"] as? String, dir + "/cthulhu-fixture/" + c.ip, name)
    }

    // Every instance reaches a peer on another node, by name and by the address in spec.json.
    for (name, c) in now.sorted(by: { $0.key < $1.key }) {
      let peer = try XCTUnwrap(now.sorted(by: { $0.key < $1.key }).first { $0.value.node != c.node }, "a peer of \(name) elsewhere")
      let peerIP = try XCTUnwrap(s[peer.key]?["ip"] as? String)
      let byName = try await fetch(from: c.id, peer.key)
      XCTAssertTrue(byName.contains("\"name\": \"\(peer.key)\""), "\(name)@\(c.node) → \(peer.key)@\(peer.value.node) by name: \(byName)")
      let byIP = try await fetch(from: c.id, peerIP)
      XCTAssertTrue(byIP.contains("\"self\": \"\(peerIP)\""), "\(name) → \(peerIP) by address: \(byIP)")
    }

    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 0, "nothing to do once applied: \(r.stdout + r.stderr)")

    // A partition cuts across nodes (entered where each instance runs) and heals.
    let (a, b) = (now["i001"]!, try XCTUnwrap(now.sorted { $0.key < $1.key }.first { $0.value.node != now["i001"]!.node }))
    r = try cthulhu("partition", "i001", b.key)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let cut = try await fetch(from: a.id, b.value.ip, seconds: 0)
    XCTAssertFalse(cut.contains("200 OK"), "i001@\(a.node) still reaches \(b.key)@\(b.value.node) across the partition")
    // The rules went in through a fault helper started by each instance's
    // own node (the path that works when the node is another machine), and
    // no helper outlives the command.
    let docker = try XCTUnwrap(
      ["/usr/bin/docker", "/usr/local/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }, "the docker CLI")
    for n in try await driver.nodes() where [a.node, b.value.node].contains(n.name) {
      let images = try Harness.run(docker, ["-H", n.endpoint, "images", "--format", "{{.Repository}}"])
      XCTAssertTrue(images.stdout.contains("cthulhu-nethelper"), "node \(n.name) made the fault helper image: \(images.stdout)")
      let helpers = try Harness.run(docker, ["-H", n.endpoint, "ps", "-aq", "--filter", "label=\(FaultHelperLabels.root)=\(dir!)/cthulhu-fixture"])
      XCTAssertEqual(helpers.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "no fault helper left on \(n.name)")
    }
    r = try cthulhu("heal")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let healed = try await fetch(from: a.id, b.value.ip)
    XCTAssertTrue(healed.contains("200 OK"), "healed: \(healed)")

    // A changed template restarts only its instance.
    let before = try await startTimes()
    try writeManifest(count: 6, tuning: "2")
    r = try cthulhu("plan")
    XCTAssertTrue(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), r.stdout)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let after = try await startTimes()
    for n in before.keys where n != "i002" { XCTAssertEqual(after[n], before[n], "\(n) untouched") }
    XCTAssertNotEqual(after["i002"], before["i002"], "i002 restarted")
    let conf = try await driver.exec(id: now["i002"]!.id, command: ["cat", "/opt/app/etc/node.conf"])
    XCTAssertEqual(conf.stdout, "tuning=2\n")

    // kill / start through the CLI, on whichever node the instance runs.
    r = try cthulhu("kill", "i005")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let killed = try await driver.inspect(id: now["i005"]!.id)
    XCTAssertNotEqual(killed.state, .running)
    let other = try XCTUnwrap(now.first { $0.value.node != now["i005"]!.node })
    let silent = try await fetch(from: other.value.id, "i005", seconds: 0)
    XCTAssertFalse(silent.contains("200 OK"), "a killed instance answers nothing")
    r = try cthulhu("start", "i005")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let back = try await fetch(from: other.value.id, "i005")
    XCTAssertTrue(back.contains("\"name\": \"i005\""), "i005 answers again after start: \(back)")

    // Scale 6 → 2: the highest go, the rest keep everything.
    try writeManifest(count: 2, tuning: "2")
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let two = try await live()
    XCTAssertEqual(two.keys.sorted(), ["i001", "i002"])
    for n in ["i001", "i002"] {
      XCTAssertEqual(two[n]?.node, now[n]?.node)
      XCTAssertEqual(two[n]?.ip, now[n]?.ip)
    }
    now = two

    r = try cthulhu("status")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains(now["i001"]!.node + ":"), "status names the node: \(r.stdout)")

    r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    try await assertNothingLeft()
  }

  /// The docker CLI, to look at containers as their node's engine has them.
  func dockerCLI() throws -> String {
    try XCTUnwrap(["/usr/bin/docker", "/usr/local/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }, "the docker CLI")
  }

  /// `stat -c '%a %u %g'` of `path` on this machine.
  func hostStat(_ path: String) throws -> String {
    let attrs = try FileManager.default.attributesOfItem(atPath: path)
    let mode = try XCTUnwrap(attrs[.posixPermissions] as? Int)
    let uid = try XCTUnwrap(attrs[.ownerAccountID] as? NSNumber)
    let gid = try XCTUnwrap(attrs[.groupOwnerAccountID] as? NSNumber)
    return "\(String(mode, radix: 8)) \(uid) \(gid)"
  }

  /// `from` gets an answer from `target` (a line in its log).
  func request(from id: String, _ target: String) async throws {
    let got = try await fetch(from: id, target)
    XCTAssertTrue(got.contains("200 OK"), "\(target): \(got)")
  }

  /// The lines of `path` (none when it is missing).
  func lines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
  }

  /// Nodes that share no filesystem: no instance has a bind mount of the
  /// fixture folder; its files are copied in through the engine with the
  /// modes and owners they have here, rewritten in the running container
  /// by `on_change: signal`, and its log is pulled from the engine into
  /// `bindmounts/var/<name>.log` on `status`, `logs`, a kill and destroy,
  /// each line once.
  func testFilesAreCopiedInAndLogsPulledOut() async throws {
    try """
    fixture: \(fixture!)
    driver: swarm
    vars:
      tuning: "1"
    groups:
      node:
        image: cthulhu-test:latest
        count: 2
        user: "1000:1000"
        command: ["/bin/sh", "-c", "exec httpd -f -v -p 8080 -h /opt/app/etc >>/opt/app/var/$CTHULHU_NAME.log 2>&1"]
        templates:
          - { source: templates/config.json, target: etc/config.json }
          - { source: templates/node.conf, target: etc/node.conf }
        on_change: signal:HUP
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let placed = try await live()
    XCTAssertEqual(placed.keys.sorted(), ["i001", "i002"])
    XCTAssertNotEqual(placed["i001"]?.node, placed["i002"]?.node, "two instances on two nodes")
    let root = dir + "/cthulhu-fixture"
    let docker = try dockerCLI()
    let nodes = Dictionary(uniqueKeysWithValues: try await driver.nodes().map { ($0.name, $0.endpoint) })

    for (name, c) in placed {
      // No bind mount at all (so none of the fixture folder).
      let cid = String(c.id.split(separator: ":")[1])
      let mounts = try Harness.run(docker, ["-H", try XCTUnwrap(nodes[c.node]), "inspect", "-f", "{{json .Mounts}}", cid])
      XCTAssertEqual(mounts.status, 0, mounts.stderr)
      XCTAssertFalse(mounts.stdout.contains(root), "\(name) mounts nothing of the fixture folder: \(mounts.stdout)")
      XCTAssertEqual(mounts.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[]", name)
      // The rendered file is there, with this machine's content, mode and owner (the instance's user).
      let host = root + "/" + c.ip + "/bindmounts/etc/config.json"
      let cat = try await driver.exec(id: c.id, command: ["cat", "/opt/app/etc/config.json"])
      XCTAssertEqual(cat.stdout, try String(contentsOfFile: host, encoding: .utf8), name)
      XCTAssertTrue(cat.stdout.contains("\"name\": \"\(name)\""), cat.stdout)
      for (inContainer, here) in [
        ("/opt/app/etc/config.json", host), ("/opt/app/etc", root + "/" + c.ip + "/bindmounts/etc"),
        ("/opt/app/var", root + "/" + c.ip + "/bindmounts/var"),
      ] {
        let st = try await driver.exec(id: c.id, command: ["stat", "-c", "%a %u %g", inContainer])
        XCTAssertEqual(st.stdout.trimmingCharacters(in: .whitespacesAndNewlines), try hostStat(here), "\(name) \(inContainer)")
      }
      let owned = try hostStat(host)
      XCTAssertTrue(owned.hasSuffix(" 1000 1000"), "given to the instance's user: \(owned)")
    }

    // Logs: what i002's httpd wrote to its log reaches the fixture folder on
    // `status`, once; more on the next pull; nothing twice.
    let (a, b) = (placed["i001"]!, placed["i002"]!)
    let log = root + "/" + b.ip + "/bindmounts/var/i002.log"
    XCTAssertEqual(lines(log), [], "nothing pulled yet")
    try await request(from: a.id, "i002")
    r = try cthulhu("status")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let first = lines(log)
    XCTAssertEqual(first.filter { $0.contains("response:200") }.count, 1, "one request, one line: \(first)")
    XCTAssertTrue(first.allSatisfy { $0.contains(a.ip) }, "the lines are httpd's, without the engine's times: \(first)")
    r = try cthulhu("status")
    XCTAssertEqual(lines(log), first, "a second pull appends nothing")
    try await request(from: a.id, "i002")
    r = try cthulhu("logs", "i002")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(r.stdout.split(separator: "\n").filter { $0.contains("response:200") }.count, 2, "logs shows the engine's log: \(r.stdout)")
    XCTAssertEqual(lines(log).filter { $0.contains("response:200") }.count, 2, "logs pulled the new line: \(lines(log))")

    // A kill pulls first; a start keeps the container and its log, which is not pulled twice.
    try await request(from: a.id, "i002")
    r = try cthulhu("kill", "i002")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertEqual(lines(log).filter { $0.contains("response:200") }.count, 3, "kill pulled the log first: \(lines(log))")
    r = try cthulhu("start", "i002")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    r = try cthulhu("status")
    XCTAssertEqual(lines(log).filter { $0.contains("response:200") }.count, 3, "no line twice: \(lines(log))")

    // on_change: signal: the changed file is rewritten in the running
    // container, which is signalled, not restarted; the other is untouched.
    let before = try await startTimes()
    try String(contentsOfFile: dir + "/cthulhu.yaml", encoding: .utf8).replacingOccurrences(of: "tuning: \"1\"", with: "tuning: \"2\"")
      .write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let conf = try await driver.exec(id: b.id, command: ["cat", "/opt/app/etc/node.conf"])
    XCTAssertEqual(conf.stdout, "tuning=2\n")
    let st = try await driver.exec(id: b.id, command: ["stat", "-c", "%a %u %g", "/opt/app/etc/node.conf"])
    XCTAssertEqual(st.stdout.trimmingCharacters(in: .whitespacesAndNewlines), try hostStat(root + "/" + b.ip + "/bindmounts/etc/node.conf"))
    let after = try await startTimes()
    XCTAssertEqual(after, before, "signalled, not restarted")
    let state = try await driver.inspect(id: b.id).state
    XCTAssertEqual(state, .running)

    // destroy --keep-files pulls each log before its container goes.
    try await request(from: a.id, "i002")
    r = try cthulhu("destroy", "--keep-files")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertEqual(lines(log).filter { $0.contains("response:200") }.count, 4, "destroy pulled the last line: \(lines(log))")
    let left = try await live()
    XCTAssertTrue(left.isEmpty, "\(left)")
    r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    try await assertNothingLeft()
  }

  /// An apply that adopts a container (its record lost: a killed apply may
  /// have left it made but not yet filled) copies the mounts in again.
  func testAnAdoptedContainerGetsItsFilesAgain() async throws {
    try writeManifest(count: 1)
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let first = try await live()
    let c = try XCTUnwrap(first["i001"])
    let rm = try await driver.exec(id: c.id, command: ["rm", "/opt/app/etc/config.json", "/opt/app/var/i001.log"])
    XCTAssertEqual(rm.exitCode, 0, rm.stderr)
    // The state forgets the container (as an apply killed before it recorded it).
    let statePath = dir + "/cthulhu-fixture/.cthulhu/state.json"
    let text = try String(contentsOfFile: statePath, encoding: .utf8)
    XCTAssertTrue(text.contains(c.id), "the state records \(c.id)")
    try text.replacingOccurrences(of: c.id, with: "gone:0000").write(toFile: statePath, atomically: true, encoding: .utf8)
    r = try cthulhu("plan")
    XCTAssertTrue(r.stdout.contains("adopt"), r.stdout + r.stderr)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let again = try await live()
    XCTAssertEqual(again["i001"]?.id, c.id, "adopted, not made again")
    let cat = try await driver.exec(id: c.id, command: ["cat", "/opt/app/etc/config.json"])
    XCTAssertTrue(cat.stdout.contains("\"name\": \"i001\""), cat.stdout + cat.stderr)
    let link = try await driver.exec(id: c.id, command: ["readlink", "/opt/app/var/i001.log"])
    XCTAssertEqual(link.stdout, "/proc/1/fd/1\n", "the log is a link to the standard output again")
  }

  /// `destroy --fixture-name` finds a swarm fixture by its labels on every
  /// node, with no manifest and no folder given, and removes all of it; so
  /// does `destroy --fixture DIR` when the folder's state is gone.
  func testDestroyByFixtureNameFindsASwarmFixture() async throws {
    try writeManifest(count: 3)
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let spread = Set(try await live().values.map(\.node))
    XCTAssertGreaterThanOrEqual(spread.count, 2)
    let elsewhere = try Harness.tempDir("swarm-elsewhere")
    defer { try? FileManager.default.removeItem(atPath: elsewhere) }
    r = try Harness.cthulhu(["destroy", "--fixture-name", fixture], in: elsewhere, env: env)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Destroyed fixture '\(fixture!)': 3 instance(s), 1 network(s)"), r.stdout + r.stderr)
    try await assertNothingLeft()
    r = try Harness.cthulhu(["destroy", "--fixture-name", fixture], in: elsewhere, env: env)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Nothing to destroy"), r.stdout)

    // A folder whose state is gone, and no manifest: found by label on the swarm too.
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let root = dir + "/cthulhu-fixture"
    try FileManager.default.removeItem(atPath: root + "/.cthulhu/state.json")
    r = try Harness.cthulhu(["destroy", "--fixture", root], in: elsewhere, env: env)
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Destroyed fixture '\(fixture!)': 3 instance(s), 1 network(s)"), r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Found by label"), r.stdout)
    // (Without its state, the folder's own making is unknown: it stays, emptied.)
    try await assertNothingLeft(folder: false)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root), [])
  }

  /// Nothing of the fixture on any node: no container, no network. The
  /// manager drops the network before destroy returns; each node drops
  /// its own copy of it a moment later (waited for, 10 s at most). With
  /// `folder`, the fixture folder is gone too.
  func assertNothingLeft(folder: Bool = true) async throws {
    for n in try await driver.nodes() {
      let engine = try DockerDriver(environment: ["DOCKER_HOST": n.endpoint])
      let containers = try await engine.containers(fixture: fixture)
      let ours = { (all: [ObservedNetwork]) in all.filter { $0.labels[Labels.fixture] == self.fixture || $0.name == "cthulhu-\(self.fixture!)" } }
      var networks = ours(try await engine.networks())
      let deadline = Date().addingTimeInterval(10)
      while !networks.isEmpty && Date() < deadline {
        try await Task.sleep(for: .milliseconds(100))
        networks = ours(try await engine.networks())
      }
      try await engine.shutdown()
      XCTAssertEqual(containers.map(\.name), [], "containers left on \(n.name)")
      XCTAssertEqual(networks.map(\.name), [], "networks left on \(n.name)")
    }
    if folder { XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture")) }
  }

  /// The figures docs/benchmarks.md quotes: apply and destroy of 6 instances.
  func testSixInstancesApplyAndDestroyTimes() async throws {
    try writeManifest(count: 6)
    let t0 = ContinuousClock.now
    var r = try cthulhu("apply")
    let applied = ContinuousClock.now - t0
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let placed = try await live()
    XCTAssertEqual(placed.count, 6)
    let perNode = Dictionary(grouping: placed.values, by: \.node).mapValues(\.count)
    let schedulable = try await driver.nodes().filter(\.schedulable).count
    XCTAssertEqual(perNode.count, min(6, schedulable), "least-loaded placement: \(perNode)")
    XCTAssertLessThanOrEqual(perNode.values.max()! - perNode.values.min()!, 1, "balanced: \(perNode)")
    let t1 = ContinuousClock.now
    r = try cthulhu("destroy")
    let destroyed = ContinuousClock.now - t1
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    try await assertNothingLeft()
    print("swarm: apply of 6 instances \(applied), destroy \(destroyed), placement \(perNode.sorted { $0.key < $1.key })")
  }

  /// An apply SIGKILLed part-way (after 1.5 s: the network made, some
  /// containers created or attaching on their nodes) leaves a fixture the
  /// next apply converges, and destroy still leaves nothing.
  func testAKilledApplyConverges() async throws {
    try writeManifest(count: 6)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Harness.binary)
    p.arguments = ["apply"]
    p.currentDirectoryURL = URL(fileURLWithPath: dir)
    p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    try await Task.sleep(for: .milliseconds(1500))
    kill(p.processIdentifier, SIGKILL)
    p.waitUntilExit()
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 0, "converged after one more apply: \(r.stdout + r.stderr)")
    let placed = try await live()
    XCTAssertEqual(placed.keys.sorted(), ["i001", "i002", "i003", "i004", "i005", "i006"])
    for (name, c) in placed {
      let state = try await driver.inspect(id: c.id).state
      XCTAssertEqual(state, .running, name)
    }
    r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    try await assertNothingLeft()
  }

  /// Where a network fault enters: a path of this machine, since the nodes
  /// of scripts/swarm.sh share its PID namespace.
  func testNetworkNamespaceIsTheInstancesOwn() async throws {
    try writeManifest(count: 2)
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    for (name, c) in try await live() {
      let found = try await driver.networkNamespace(id: c.id)
      let path = try XCTUnwrap(found, name)
      let here = try FileManager.default.destinationOfSymbolicLink(atPath: path)
      let pid = try await driver.inspect(id: c.id).pid
      // The same namespace as the container's first process: nsenter there
      // sees the instance's overlay address.
      XCTAssertEqual(here, try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net"))
      let addrs = try Harness.run("/usr/bin/nsenter", ["--net=" + path, "ip", "-4", "-o", "addr"])
      XCTAssertTrue(addrs.stdout.contains(c.ip + "/"), "\(name): \(addrs.stdout)")
    }
  }
}

import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// The product on a real engine: apply the three-node example, check the
/// fixture folder against the containers, converge, scale, change, destroy.
final class DockerApplyTests: XCTestCase {
  var e: EngineFixture!

  override func setUp() async throws {
    e = try await EngineFixture.make(tag: "e2e", prefix: "e2e")
    try EngineFixture.WebNodes.writeTemplates(in: e.dir)
  }

  override func tearDown() async throws { try await e?.tearDown() }

  func writeManifest(count: Int, tuning: String = "1") throws {
    try e.writeManifest(EngineFixture.WebNodes.manifest(fixture: e.fixture, count: count, tuning: tuning))
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  /// Retries an exec until it succeeds or the deadline passes.
  func eventually(_ id: String, _ cmd: [String], seconds: Double = 15, until ok: (ExecResult) -> Bool) async throws -> ExecResult {
    let deadline = Date().addingTimeInterval(seconds)
    var last = try await e.driver.exec(id: id, command: cmd)
    while !ok(last) && Date() < deadline {
      try await Task.sleep(for: .milliseconds(100))
      last = try await e.driver.exec(id: id, command: cmd)
    }
    return last
  }

  func testThreeNodesApplyConvergeScaleChangeDestroy() async throws {
    try writeManifest(count: 3)
    var r = try cthulhu("validate")
    XCTAssertEqual(r.status, 0, r.stderr)
    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 2, r.stderr)
    XCTAssertTrue(r.stdout.contains("Plan: 3 to add, 0 to change, 0 to destroy."), r.stdout)

    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let fm = FileManager.default
    var live = try await e.driver.containers(fixture: e.fixture).sorted { $0.name < $1.name }
    XCTAssertEqual(live.map(\.name), ["\(e.fixture)-i001", "\(e.fixture)-i002", "\(e.fixture)-i003"])
    var ips: [String: String] = [:]
    for c in live {
      XCTAssertEqual(c.state, .running)
      let name = c.labels[Labels.instance]!
      let ip = try XCTUnwrap(c.ip).description
      ips[name] = ip
      // The folder named by the link is the container's address.
      XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: e.root + "/" + name), ip)
      let host = try String(contentsOfFile: "\(e.root)/\(ip)/bindmounts/etc/config.json", encoding: .utf8)
      XCTAssertTrue(host.contains("\"self\": \"\(ip)\""), host)
      let inside = try await e.driver.exec(id: c.id, command: ["cat", "/opt/app/etc/config.json"])
      XCTAssertEqual(inside.exitCode, 0)
      XCTAssertEqual(inside.stdout, host, "the container sees its rendered config at the mount path")
      XCTAssertTrue(fm.fileExists(atPath: "\(e.root)/\(ip)/bindmounts/var/\(name).log"))
      XCTAssertTrue(fm.isExecutableFile(atPath: "\(e.root)/\(ip)/control"))
      let pid = try String(contentsOfFile: "\(e.root)/\(ip)/pid.txt", encoding: .utf8)
      XCTAssertGreaterThan(Int(pid.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0)
    }
    let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: e.root + "/spec.json"))) as! [String: Any]
    let specInstances = spec as! [String: [String: Any]]
    XCTAssertEqual(specInstances["i002"]?["ip"] as? String, ips["i002"])
    XCTAssertEqual(specInstances["i002"]?["id"] as? String, live[1].id)

    // The nodes reach each other by address and by name.
    let get = "printf 'GET /config.json HTTP/1.0\\r\\n\\r\\n' | nc "
    let byName = try await eventually(live[0].id, ["sh", "-c", get + "i002 8080"]) { $0.stdout.contains(ips["i002"]!) }
    XCTAssertTrue(byName.stdout.contains("\"self\": \"\(ips["i002"]!)\""), byName.stdout + byName.stderr)
    let byIP = try await eventually(live[2].id, ["sh", "-c", get + ips["i001"]! + " 8080"]) { $0.stdout.contains(ips["i001"]!) }
    XCTAssertTrue(byIP.stdout.contains("\"name\": \"i001\""), byIP.stdout + byIP.stderr)

    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.hasPrefix("No changes."), r.stdout)

    // exec passes the exit code and both streams through; targets must name one instance.
    r = try cthulhu("exec", "i002", "--", "sh", "-c", "cat /opt/app/etc/config.json; echo oops >&2; exit 3")
    XCTAssertEqual(r.status, 3)
    XCTAssertTrue(r.stdout.contains("\"self\": \"\(ips["i002"]!)\""), r.stdout)
    XCTAssertEqual(r.stderr, "oops\n")
    r = try cthulhu("exec", "node", "--", "true")
    XCTAssertEqual(r.status, 1)
    XCTAssertEqual(r.stderr, "error: 'node' must name exactly one instance (it matches i001, i002, i003)\n")

    // A template change restarts only the instance whose file changed.
    let before = try await startTimes()
    try writeManifest(count: 3, tuning: "2")
    r = try cthulhu("plan")
    XCTAssertTrue(r.stdout.contains("~   instance:i002  update (restart)\n        # etc/node.conf changed"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), r.stdout)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let after = try await startTimes()
    XCTAssertEqual(after["i001"], before["i001"])
    XCTAssertEqual(after["i003"], before["i003"])
    XCTAssertNotEqual(after["i002"], before["i002"])
    XCTAssertEqual(try String(contentsOfFile: "\(e.root)/\(ips["i002"]!)/bindmounts/etc/node.conf", encoding: .utf8), "tuning=2\n")

    // Scale up: new names and addresses; scale down: the highest go.
    try writeManifest(count: 5, tuning: "2")
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    live = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(live.count, 5)
    try writeManifest(count: 2, tuning: "2")
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    live = try await e.driver.containers(fixture: e.fixture).sorted { $0.name < $1.name }
    XCTAssertEqual(live.map { $0.labels[Labels.instance]! }, ["i001", "i002"])
    XCTAssertEqual(live.map { $0.ip?.description }, [ips["i001"], ips["i002"]], "kept instances keep their address")
    XCTAssertFalse(fm.fileExists(atPath: e.root + "/i003"))

    r = try cthulhu("status")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("i002  node   \(ips["i002"]!)"), r.stdout)

    r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let left = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(left, [])
    let nets = try await e.driver.networks().filter { $0.labels[Labels.fixture] == e.fixture }
    XCTAssertEqual(nets, [])
    XCTAssertFalse(fm.fileExists(atPath: e.root))
  }

  func startTimes() async throws -> [String: Date] {
    var out: [String: Date] = [:]
    for c in try await e.driver.containers(fixture: e.fixture) {
      out[c.labels[Labels.instance]!] = try await e.driver.inspect(id: c.id).startedAt
    }
    return out
  }

  /// A new subnet is a planned readdress, not a refusal: the network and
  /// every instance are replaced; names, folders and logs stay, addresses move.
  func testANewSubnetReaddressesEveryInstanceKeepingNamesFoldersAndLogs() async throws {
    try writeManifest(count: 3)
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
    let old = try XCTUnwrap(try FixtureState.load(root: e.root)?.subnet)
    try "before the move\n".write(toFile: e.root + "/i001/bindmounts/var/mark.log", atomically: true, encoding: .utf8)
    // A free /24 that no engine network overlaps.
    let taken = try await e.driver.networks().flatMap(\.subnets)
    let free = try XCTUnwrap((200...254).lazy.compactMap { IPv4Network("172.31.\($0).0/24") }.first { n in !taken.contains { $0.overlaps(n) } })
    let manifest = try String(contentsOfFile: e.dir + "/cthulhu.yaml", encoding: .utf8)
    try manifest.replacingOccurrences(of: "groups:", with: "network: { subnet: \(free) }\ngroups:")
      .write(toFile: e.dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)

    r = try cthulhu("plan")
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("-/+ network:cthulhu-\(e.fixture)  replace"), r.stdout)
    XCTAssertTrue(r.stdout.contains("subnet \(old) → \(free)"), r.stdout)
    XCTAssertTrue(r.stdout.contains("address \(old.host(0)) → \(free.host(0))"), r.stdout)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)

    let state = try XCTUnwrap(try FixtureState.load(root: e.root))
    XCTAssertEqual(state.subnet, free)
    XCTAssertEqual(state.instances.map(\.name), ["i001", "i002", "i003"])
    XCTAssertTrue(state.instances.allSatisfy { free.contains($0.ip) }, "\(state.instances.map(\.ip))")
    let entries = try FileManager.default.contentsOfDirectory(atPath: e.root)
    XCTAssertFalse(entries.contains { IPv4Address($0).map(old.contains) ?? false }, "an old address folder is left: \(entries)")
    XCTAssertEqual(try String(contentsOfFile: e.root + "/i001/bindmounts/var/mark.log", encoding: .utf8), "before the move\n")
    XCTAssertTrue(try String(contentsOfFile: e.root + "/i002/bindmounts/etc/config.json", encoding: .utf8).contains("\"self\": \"\(free.host(1))\""))
    let mine = try await e.driver.networks().filter { $0.name == "cthulhu-" + e.fixture }
    XCTAssertEqual(mine.map(\.subnets), [[free]], "exactly one fixture network, on the new subnet")
    let live = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(live.filter { $0.state == .running }.count, 3)
    let peer = try XCTUnwrap(live.first { $0.labels[Labels.instance] == "i001" })
    let got = try await eventually(peer.id, ["sh", "-c", "printf 'GET /config.json HTTP/1.0\\r\\n\\r\\n' | nc -w 1 \(free.host(2)) 8080"]) {
      $0.stdout.contains("200 OK")
    }
    XCTAssertTrue(got.stdout.contains("\"name\": \"i003\""), "i001 reaches i003 at its new address: \(got.stdout)")
    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 0, "converged: " + r.stdout)

    // The same addresses in a /25 of the same base: only the network changes,
    // and the instances are still replaced, since its containers go with it.
    try manifest.replacingOccurrences(of: "groups:", with: "network: { subnet: \(free.address)/25 }\ngroups:")
      .write(toFile: e.dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    r = try cthulhu("plan")
    XCTAssertTrue(r.stdout.contains("its network is replaced"), r.stdout)
    r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    r = try cthulhu("plan", "--detailed-exitcode")
    XCTAssertEqual(r.status, 0, "converged: " + r.stdout)
    let after = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(after.filter { $0.state == .running }.count, 3)
  }

  /// Issue 12 on Docker: a root that existed (empty) is adopted; what a test
  /// leaves in it is kept byte for byte; with the state file deleted,
  /// destroy still finds and removes every container and the network by label.
  func testDestroyWithoutStateRemovesContainersAndNetworkByLabelAndKeepsForeignFiles() async throws {
    try writeManifest(count: 2)
    try FileManager.default.createDirectory(atPath: e.root, withIntermediateDirectories: true)
    var r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    let results = Data("2 passed\n".utf8)
    try results.write(to: URL(fileURLWithPath: e.root + "/results.txt"))
    let made = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(made.count, 2)
    try FileManager.default.removeItem(atPath: e.root + "/.cthulhu/state.json")
    r = try cthulhu("destroy")
    XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    XCTAssertTrue(r.stdout.contains("Destroyed fixture '\(e.fixture)': 2 instance(s), 1 network(s)"), r.stdout)
    XCTAssertTrue(r.stdout.contains("Found by label: it has no state file."), r.stdout)
    XCTAssertTrue(r.stdout.contains("Kept 1 entry cthulhu did not make: results.txt"), r.stdout)
    let left = try await e.driver.containers(fixture: e.fixture)
    XCTAssertEqual(left, [])
    let networks = try await e.driver.networks()
    XCTAssertFalse(networks.contains { $0.name == Naming.network(e.fixture) })
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: e.root), ["results.txt"])
    XCTAssertEqual(FileManager.default.contents(atPath: e.root + "/results.txt"), results)
  }
}

import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// Peers reach an instance made again at once (namespaces mode): its MAC is
/// derived from its address, so a peer's neighbour cache, which still holds
/// the MAC from before as REACHABLE, stays right. Before, a replaced instance
/// got a new random MAC and its peers could not reach it for about 46 s.
/// Each check is one fetch bounded by one second, after the peer's cache was
/// warmed by a fetch before the change.
final class NeighbourCacheTests: FixtureTestCase {
  var manifest: String { dir + "/cthulhu.yaml" }

  override func setUp() async throws {
    try Host.requireBusybox()
    try Host.requireRoot()
    try makeFolder("neigh")
  }

  /// Groups `a` (count `a`) and `b` (one instance), busybox web servers
  /// that serve their own name; `env` is `a`'s (a change replaces it).
  func writeManifest(a: Int = 1, env: String = "one", subnet: String? = nil) throws {
    let network = subnet.map { "{ mode: namespaces, subnet: \($0) }" } ?? "{ mode: namespaces }"
    let server = """
          command: ["\(Host.busybox)", "sh", "-c", "mkdir -p \\"$CTHULHU_MOUNT_VAR\\" && echo \\"$CTHULHU_NAME\\" > \\"$CTHULHU_MOUNT_VAR/name\\" && exec \(Host.busybox) httpd -f -p \\"$CTHULHU_IP:8080\\" -h \\"$CTHULHU_MOUNT_VAR\\""]
          healthcheck:
            command: ["\(Host.busybox)", "sh", "-c", "printf 'GET /name HTTP/1.0\\\\r\\\\n\\\\r\\\\n' | \(Host.busybox) nc \\"$CTHULHU_IP\\" 8080 | \(Host.busybox) grep -q '200 OK'"]
            interval: 100ms
            retries: 50
          stop_timeout: 2s
      """
    try """
    fixture: \(fixture)
    driver: process
    network: \(network)
    groups:
      a:
        count: \(a)
        env: { VERSION: \(env) }
    \(server)
      b:
        count: 1
    \(server)

    """.write(toFile: manifest, atomically: true, encoding: .utf8)
  }

  /// The instance names of group `g`, from spec.json.
  func instances(_ g: String) throws -> [String] {
    let data = try Data(contentsOf: URL(fileURLWithPath: root + "/spec.json"))
    let spec = try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] ?? [:]
    return spec.filter { $0.value["group"] as? String == g }.map(\.key).sorted()
  }

  /// One fetch of `to`'s name from `from`, the whole exchange bounded by one second.
  func reachesAtOnce(_ from: String, _ to: String) throws -> Bool {
    let get = "printf 'GET /name HTTP/1.0\\r\\n\\r\\n' | \(Host.busybox) timeout 1 \(Host.busybox) nc \(try ip(to)) 8080"
    return try cthulhu("exec", "--fixture", root, from, "--", Host.busybox, "sh", "-c", get).stdout.contains(to)
  }

  func mac(_ name: String) throws -> String {
    // Not /sys/class/net: sysfs shows the namespace of whoever mounted it.
    let link = try cthulhu("exec", "--fixture", root, name, "--", Host.busybox, "ip", "-o", "link", "show", "eth0").stdout
    return link.split(separator: " ").drop { $0 != "link/ether" }.dropFirst().first.map(String.init) ?? link
  }

  func testAReplacedRestartedOrReusedAddressAnswersItsPeersAtOnce() async throws {
    try writeManifest(a: 2)
    try mustSucceed("apply")
    let a = try instances("a")
    let peer = try instances("b")[0]
    XCTAssertEqual(a.count, 2)
    let first = a[0]
    XCTAssertTrue(try reachesAtOnce(peer, first), "before any change")
    XCTAssertEqual(try mac(first), Namespaces.mac(for: IPv4Address(try ip(first))!))

    // A replace (its env changed): same address, a new namespace.
    try writeManifest(a: 2, env: "two")
    let applied = try mustSucceed("apply")
    XCTAssertTrue(applied.contains("replace") || applied.contains("-/+"), applied)
    XCTAssertTrue(try reachesAtOnce(peer, first), "after a replace")

    // A restart, and a kill followed by a start.
    try mustSucceed("restart", "--fixture", root, first)
    XCTAssertTrue(try reachesAtOnce(peer, first), "after a restart")
    try mustSucceed("kill", "--fixture", root, first)
    try mustSucceed("start", "--fixture", root, first)
    XCTAssertTrue(try reachesAtOnce(peer, first), "after a kill and a start")

    // Scaled down and up: the address comes back on a new namespace.
    let second = a[1]
    let address = try ip(second)
    XCTAssertTrue(try reachesAtOnce(peer, second))
    try writeManifest(a: 1, env: "two")
    try mustSucceed("apply")
    try writeManifest(a: 2, env: "two")
    try mustSucceed("apply")
    let back = try instances("a").first { try ip($0) == address }
    XCTAssertNotNil(back, "the address \(address) is in use again")
    XCTAssertTrue(try reachesAtOnce(peer, back ?? second), "after a scale-down and up reused \(address)")
  }

  func testAReaddressedFixtureAnswersAtOnce() async throws {
    try writeManifest(subnet: "10.250.71.0/24")
    try mustSucceed("apply")
    let (first, peer) = (try instances("a")[0], try instances("b")[0])
    XCTAssertTrue(try reachesAtOnce(peer, first))
    try writeManifest(subnet: "10.250.72.0/24")
    try mustSucceed("apply")
    XCTAssertTrue(try ip(first).hasPrefix("10.250.72."))
    XCTAssertTrue(try reachesAtOnce(peer, first), "after a readdress")
    XCTAssertTrue(try reachesAtOnce(first, peer), "after a readdress, the other way")
  }
}

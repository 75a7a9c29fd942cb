import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// spec.json is written by hand; these are the bytes JSONSerialization wrote.
final class SpecFileTests: XCTestCase {
  /// What SpecFile.make was: the reference.
  func serialized(_ state: FixtureState) throws -> Data {
    var instances: [String: Any] = [:]
    let paths = FixturePaths(root: state.root)
    for r in state.instances {
      var entry: [String: Any] = [
        "name": r.name, "group": r.group, "ip": r.ip.description,
        "root": paths.instanceFolder(ip: r.ip), "id": r.containerID ?? NSNull(),
      ]
      let published = r.ports.filter { $0.host != nil }
      entry["ports"] = Dictionary(published.map { ("\($0.container)/\($0.proto)", $0.host!) }, uniquingKeysWith: { a, _ in a })
      entry["port"] = published.first?.host ?? NSNull()
      instances[r.name] = entry
    }
    return try JSONSerialization.data(withJSONObject: instances, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
  }

  func state(root: String, count: Int, group: String = "node", ports: [PortBinding] = []) -> FixtureState {
    var s = FixtureState(fixture: "spec", root: root, driver: .docker)
    let subnet = IPv4Network("10.7.0.0/16")!
    for i in 1...max(1, count) where count > 0 {
      s.upsert(
        InstanceRecord(
          name: InstanceName.make(i), group: group, ip: subnet.host(i - 1), containerID: i % 3 == 0 ? nil : String(repeating: "ab", count: 32),
          ports: i % 2 == 0 ? ports : []))
    }
    return s
  }

  func testTheBytesAreJSONSerializations() throws {
    let ports = [
      PortBinding(container: 8080, host: 30000), PortBinding(container: 53, proto: "udp", host: 31000),
      PortBinding(container: 10000, host: 32000), PortBinding(container: 9090), PortBinding(container: 8080, proto: "udp", host: 30500),
    ]
    let cases: [(String, FixtureState)] = [
      ("no instances", state(root: "/tmp/spec", count: 0)),
      ("one", state(root: "/tmp/spec", count: 1)),
      ("past i999, with ports", state(root: "/tmp/spec", count: 1205, ports: ports)),
      (
        "a root and group to escape",
        state(root: "/tmp/a \"quoted\" \\ back/slash/new\nline/tab\t/ctl\u{1}/é/😀/\u{7f}/\u{2028}", count: 4, group: "grüppe\"x", ports: ports)
      ),
    ]
    for (what, s) in cases {
      let made = try SpecFile.make(state: s)
      let reference = try serialized(s)
      XCTAssertEqual(
        made, reference,
        "\(what):\n\(String(decoding: made.prefix(400), as: UTF8.self))\n---\n\(String(decoding: reference.prefix(400), as: UTF8.self))")
    }
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// state.json's records are encoded on every core and spliced in: the
/// bytes are JSONEncoder's for the whole value.
final class FixtureStateEncodingTests: XCTestCase {
  func testTheBytesAreJSONEncodersForTheWholeState() throws {
    let subnet = IPv4Network("10.9.0.0/16")!
    for count in [0, 1, 31, 32, 33, 1001] {
      var s = FixtureState(fixture: "enc", root: "/tmp/a \"root\"\n\\with/odd é 😀", driver: .process)
      s.subnet = subnet
      s.claim(["control", "spec.json", "instances"])
      s.builtImages = ["x:1"]
      s.updatedAt = Date(timeIntervalSince1970: 1_800_000_000)
      for i in stride(from: count, to: 0, by: -1) {
        var spec = ContainerSpec(
          name: "enc-\(InstanceName.make(i))", image: "img", imageID: "process", command: ["/bin/x", "a\nb"], env: ["K=\"v\""],
          hostname: InstanceName.make(i), labels: ["io.cthulhu.fixture": "enc", "z": "\u{1}"], binds: [], network: "n", ip: subnet.host(i))
        spec.ports = i % 2 == 0 ? [PortBinding(container: 80, host: 30000 + i)] : []
        s.upsert(
          InstanceRecord(
            name: InstanceName.make(i), group: "g", ip: subnet.host(i), containerID: "c\(i)", specHash: "h", filesHash: nil,
            files: ["etc/a": "1", "etc/b": "2"], ports: spec.ports, spec: spec))
      }
      let whole = try JSONEncoder.cthulhu.encode(s)
      XCTAssertEqual(try s.encoded(), whole, "\(count) records")
      XCTAssertEqual(try JSONDecoder.cthulhu.decode(FixtureState.self, from: try s.encoded()), s)
    }
  }
}

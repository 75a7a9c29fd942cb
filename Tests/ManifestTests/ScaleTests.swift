import Foundation
import XCTest

@testable import Manifest

/// Large manifests and the examples shipped in `manifests/`.
final class ScaleTests: XCTestCase {
  func testAThousandInstances() throws {
    let dir = try TempDir()
    var text = "fixture: big\nnetwork: {subnet: 10.20.0.0/22}\ngroups:\n"
    for i in 0..<100 {
      text += "  g\(i):\n    image: app:\(i)\n    count: 10\n    env: {INDEX: \"\(i)\"}\n"
      text += "    ports: [\"\(20000 + i * 10):8080\"]\n"
      text += "    templates:\n      - {source: templates/a.conf, target: etc/a.conf}\n"
      if i > 0 { text += "    depends_on: [g\(i - 1)]\n" }
    }
    let start = ContinuousClock.now
    let m = try load(text, in: dir)
    XCTAssertLessThan(ContinuousClock.now - start, .seconds(5))
    XCTAssertEqual(m.groups.reduce(0) { $0 + $1.count }, 1000)
    XCTAssertEqual(m.groups.last?.dependsOn, ["g98"])
  }

  func testAThousandAndOneInstancesAreRefusedWhereOneBridgeHoldsThem() throws {
    let dir = try TempDir()
    let docker = "fixture: big\ngroups:\n  a: {image: x, count: 1000}\n  b: {image: x}\n"
    XCTAssertEqual(
      problems(docker, in: dir),
      ["3:3: the manifest asks for 1001 instances; at most 1000 are allowed with the docker driver (each instance is a port of one Linux bridge)"])
    let namespaces = "fixture: big\ndriver: process\nnetwork: {mode: namespaces}\ngroups:\n  a: {command: [x], count: 1001}\n"
    XCTAssertEqual(
      problems(namespaces, in: dir),
      [
        "5:3: the manifest asks for 1001 instances; at most 1000 are allowed with network.mode: namespaces (each instance is a port of one Linux bridge)"
      ])
  }

  func testTenThousandLoopbackInstancesAreAllowedAndOneMoreIsNot() throws {
    let dir = try TempDir()
    let text = { (n: Int) in "fixture: big\ndriver: process\nnetwork: {subnet: 127.90.0.0/16}\ngroups:\n  a: {command: [x], count: \(n)}\n" }
    XCTAssertEqual(try load(text(10_000), in: dir).groups[0].count, 10_000)
    XCTAssertEqual(problems(text(10_001), in: dir), ["5:28: 'count' of group 'a' must be between 0 and 10000, not 10001"])
    let twoGroups = "fixture: big\ndriver: process\ngroups:\n  a: {command: [x], count: 10000}\n  b: {command: [x]}\n"
    XCTAssertEqual(problems(twoGroups, in: dir), ["4:3: the manifest asks for 10001 instances; at most 10000 are allowed"])
  }

  func testShippedManifestsValidate() throws {
    let dir = packageRoot + "/manifests"
    let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertTrue(names.contains("three-nodes.yaml"))
    XCTAssertTrue(names.contains("server-client.yaml"))
    for name in names {
      do {
        let m = try ManifestLoader.load(path: dir + "/" + name)
        XCTAssertEqual(m.fixture + ".yaml", name)
      } catch {
        XCTFail(error.render())
      }
    }
  }

  func testThreeNodesExample() throws {
    let m = try ManifestLoader.load(path: packageRoot + "/manifests/three-nodes.yaml")
    XCTAssertEqual(m.groups.map(\.name), ["node"])
    XCTAssertEqual(m.groups[0].count, 3)
    XCTAssertEqual(m.groups[0].source, .image("cthulhu-test:latest"))
    XCTAssertEqual(m.groups[0].mounts.map(\.name), ["etc", "var"])
    XCTAssertEqual(m.groups[0].templates.map(\.target), ["etc/config.json"])
  }

  func testServerClientExample() throws {
    let m = try ManifestLoader.load(path: packageRoot + "/manifests/server-client.yaml")
    XCTAssertEqual(m.groups.map(\.name), ["server", "client"])
    XCTAssertEqual(m.groups.map(\.count), [3, 2])
    XCTAssertNotNil(m.groups[0].healthcheck)
    XCTAssertEqual(m.groups[0].ports, [PortSpec(hostStart: 30080, container: 8080)])
    XCTAssertEqual(m.groups[1].dependsOn, ["server"])
  }
}

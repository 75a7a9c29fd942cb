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

  func testAThousandAndOneInstancesAreRefused() throws {
    let dir = try TempDir()
    let text = "fixture: big\ngroups:\n  a: {image: x, count: 1000}\n  b: {image: x}\n"
    XCTAssertEqual(problems(text, in: dir), ["3:3: the manifest asks for 1001 instances; at most 1000 are allowed"])
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

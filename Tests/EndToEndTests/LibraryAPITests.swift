import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// The library face, used from Swift the way Testcontainers is used from JUnit.
final class LibraryAPITests: XCTestCase {
  func testPlanApplyLookUpDestroyFromSwift() async throws {
    let driver: DockerDriver
    do { driver = try DockerDriver() } catch { try Harness.require(false, "no Docker engine: \(error)"); return }
    let image = try? await driver.imageID("cthulhu-test:latest")
    if image == nil { try await driver.shutdown() }
    try Harness.require(image != nil, "the Docker engine or image cthulhu-test:latest is missing")
    let dir = try Harness.tempDir("lib")
    let fixture = "lib-" + String(UUID().uuidString.prefix(6)).lowercased()
    let text = """
      fixture: \(fixture)
      groups:
        node:
          image: cthulhu-test:latest
          count: 2
          command: ["sleep", "600"]
          stop_timeout: 1s
      """
    let manifest = try ManifestLoader.load(text: text, path: dir + "/cthulhu.yaml")
    let cthulhu = FixtureController(driver: driver, executable: CthulhuExecutable(path: Harness.binary))
    do {
      let planned = try await cthulhu.plan(manifest)
      XCTAssertEqual(planned.plan.summary.add, 2)
      let result = try await cthulhu.apply(planned)
      XCTAssertTrue(result.failures.isEmpty, "\(result.failures)")
      let i002 = try XCTUnwrap(result.state.instance(named: "i002"))
      let live = try await driver.containers(fixture: fixture).first { $0.labels[Labels.instance] == "i002" }
      XCTAssertEqual(live?.ip, i002.ip)
      XCTAssertEqual(live?.state, .running)
      let again = try await cthulhu.plan(manifest)
      XCTAssertFalse(again.plan.hasChanges)
    } catch {
      XCTFail("\(error)")
    }
    let report = try await cthulhu.destroy(root: manifest.root)
    XCTAssertEqual(report.containers.count, 2)
    let left = try await driver.containers(fixture: fixture)
    XCTAssertEqual(left, [])
    try? FileManager.default.removeItem(atPath: dir)
    try await driver.shutdown()
  }
}

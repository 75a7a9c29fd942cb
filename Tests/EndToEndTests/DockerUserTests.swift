import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `user:` on Docker: the container runs as the given uid, and (cthulhu
/// being root) its mount folders are that uid's, so it can write its var.
final class DockerUserTests: XCTestCase {
  var dir: String!
  var fixture: String!
  var driver: DockerDriver!
  var root: String { dir + "/cthulhu-fixture" }

  override func setUp() async throws {
    driver = try await Harness.engine()
    dir = try Harness.tempDir("e2e-user")
    fixture = Harness.uniqueName("e2e-user")
  }

  override func tearDown() async throws {
    guard let driver else { return }
    _ = try? await FixtureController(driver: driver).destroy(root: root, fixture: fixture)
    try? FileManager.default.removeItem(atPath: dir)
    try await driver.shutdown()
  }

  func writeManifest(user: String) throws {
    try """
    fixture: \(fixture!)
    groups:
      node:
        image: cthulhu-test:latest
        user: "\(user)"
        command: ["/bin/sh", "-c", "id -u > /opt/app/var/uid.tmp && mv /opt/app/var/uid.tmp /opt/app/var/uid; exec sleep 1000"]
        stop_timeout: 1s

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  func cthulhu(_ args: String...) throws -> Run { try Harness.cthulhu(args, in: dir) }

  func testTheContainerRunsAsTheGivenUid() async throws {
    try writeManifest(user: "4242:4242")
    let plan = try cthulhu("plan")
    XCTAssertTrue(plan.stdout.contains("# as uid 4242, gid 4242"), plan.stdout + plan.stderr)
    let apply = try cthulhu("apply")
    XCTAssertEqual(apply.status, 0, apply.stdout + apply.stderr)

    let listed = try await driver.containers(fixture: fixture)
    let c = try XCTUnwrap(listed.first)
    let id = try await driver.exec(id: c.id, command: ["id", "-u"])
    XCTAssertEqual(id.stdout, "4242\n", id.stderr)
    let status = try cthulhu("status", "--fixture", root)
    XCTAssertTrue(status.stdout.contains(" 4242:4242 "), status.stdout)

    let ip = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/i001")
    let uidFile = root + "/\(ip)/bindmounts/var/uid"
    if geteuid() == 0 {
      // Root gave it its var folder: it wrote there.
      let deadline = Date().addingTimeInterval(10)
      while (try? String(contentsOfFile: uidFile, encoding: .utf8)) != "4242\n" && Date() < deadline {
        try await Task.sleep(for: .milliseconds(50))
      }
      XCTAssertEqual(try? String(contentsOfFile: uidFile, encoding: .utf8), "4242\n")
    }

    // A changed user replaces the container, and says so.
    try writeManifest(user: "4343")
    let change = try cthulhu("plan")
    XCTAssertTrue(change.stdout.contains("-/+ instance:i001") && change.stdout.contains("# user 4242:4242 → 4343"), change.stdout)
    let again = try cthulhu("apply")
    XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
    let now = try await driver.containers(fixture: fixture)
    let replaced = try XCTUnwrap(now.first)
    let newID = try await driver.exec(id: replaced.id, command: ["id", "-u"])
    XCTAssertEqual(newID.stdout, "4343\n", newID.stderr)
  }
}

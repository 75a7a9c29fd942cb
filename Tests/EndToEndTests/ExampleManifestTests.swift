import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// Every topology in `manifests/` is applied for real, converges, and is destroyed.
final class ExampleManifestTests: XCTestCase {
  static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("manifests").path

  func testEveryExampleAppliesConvergesAndIsDestroyed() async throws {
    let driver: DockerDriver
    do { driver = try DockerDriver() } catch { try Harness.require(false, "no Docker engine: \(error)"); return }
    let image = try? await driver.imageID("cthulhu-test:latest")
    try await driver.shutdown()
    try Harness.require(image != nil, "the Docker engine or image cthulhu-test:latest is missing")
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.examples).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 3)
    var skipped: [String] = []
    for file in files {
      // A swarm example runs on the test swarm (scripts/test.sh starts it), and only there.
      var env: [String: String] = [:]
      let text = try String(contentsOfFile: Self.examples + "/" + file, encoding: .utf8)
      if text.contains("\ndriver: swarm\n") {
        guard let host = ProcessInfo.processInfo.environment["CTHULHU_TEST_SWARM_HOST"] else {
          if Harness.underCI { XCTFail("CI=true and \(file) needs a swarm: CTHULHU_TEST_SWARM_HOST is not set (scripts/test.sh sets it)") }
          skipped.append("\(file): no test swarm (CTHULHU_TEST_SWARM_HOST; scripts/test.sh starts one)")
          continue
        }
        env["DOCKER_HOST"] = host
      }
      // What the example runs on and this machine may lack, named (scripts/test.sh brings it as root).
      if let why = await Self.missing(for: text) {
        if Harness.underCI { XCTFail("CI=true and \(file) cannot run: \(why)") }
        skipped.append("\(file): \(why)")
        continue
      }
      // A copy with a unique fixture name, so a leftover on this engine never collides.
      let dir = try Harness.tempDir("example")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      for entry in try FileManager.default.contentsOfDirectory(atPath: Self.examples) where !entry.hasPrefix("cthulhu-fixture") {
        try FileManager.default.copyItem(atPath: Self.examples + "/" + entry, toPath: dir + "/" + entry)
      }
      let unique = "ex-" + String(UUID().uuidString.prefix(6)).lowercased()
      let renamed = text.replacingOccurrences(of: #"(?m)^fixture: .*$"#, with: "fixture: \(unique)", options: .regularExpression)
        // A process program beside the repository (the quickstart's demo build, the shipped clients) stays where it is.
        .replacingOccurrences(of: "\"../.build/", with: "\"" + Self.examples + "/../.build/")
        .replacingOccurrences(of: "[../clients/", with: "[" + Self.examples + "/../clients/")
      try renamed.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)

      var r = try Harness.cthulhu(["plan", "--out", "plan.json", file], in: dir, env: env)
      XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
      r = try Harness.cthulhu(["apply", "plan.json"], in: dir, env: env)
      XCTAssertEqual(r.status, 0, "\(file): \(r.stdout)\(r.stderr)")
      r = try Harness.cthulhu(["plan", "--detailed-exitcode", file], in: dir, env: env)
      XCTAssertEqual(r.status, 0, "\(file) did not converge: \(r.stdout)\(r.stderr)")
      // The saved plan was made for a world that has since moved.
      r = try Harness.cthulhu(["apply", "plan.json"], in: dir, env: env)
      XCTAssertEqual(r.status, 1, "\(file): a stale saved plan must be refused")
      XCTAssertTrue(r.stderr.contains("changed since this plan was saved"), r.stderr)
      r = try Harness.cthulhu(["status", "--json", file], in: dir, env: env)
      let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
      XCTAssertFalse(rows.isEmpty, file)
      for row in rows {
        XCTAssertEqual(row["state"] as? String, "running", "\(file): \(row)")
        if let h = row["health"] as? String { XCTAssertEqual(h, "healthy", "\(file): \(row)") }
      }
      // Built images are a cache that plain destroy keeps; --rmi removes them too.
      let builds = text.contains("build:")
      r = try Harness.cthulhu(["destroy", "--rmi", file], in: dir, env: env)
      XCTAssertEqual(r.status, 0, "\(file): \(r.stderr)")
      XCTAssertTrue(r.stdout.contains(builds ? ", 1 built image(s)" : ", 0 built image(s)"), "\(file): \(r.stdout)")
      XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/cthulhu-fixture"))
      let left = try Harness.run(
        "/bin/sh", ["-c", "docker images -q --filter label=\(Labels.fixture)=\(unique)"], env: ["DOCKER_API_VERSION": "1.41"])
      XCTAssertEqual(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "\(file): destroy --rmi left images")
    }
    if !skipped.isEmpty { throw XCTSkip("skipped " + skipped.joined(separator: "; ")) }
  }

  /// What an example needs that this machine lacks, in words naming the
  /// package or script that brings it; nil when it can run.
  static func missing(for manifest: String) async -> String? {
    if manifest.contains("command: [\"etcd\"") && !FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") {
      return "it runs Debian's etcd, which is not installed (apt install etcd-server etcd-client, or scripts/deps.sh)"
    }
    if manifest.contains("faults: true") && (getuid() != 0 || !FileManager.default.fileExists(atPath: "/dev/fuse")) {
      return "a mount with faults needs root and /dev/fuse (the disk layer mounts a FUSE file system)"
    }
    for image in ["cthulhu-etcd:latest"] where manifest.contains("image: " + image) {
      guard let d = try? DockerDriver() else { return "no Docker engine" }
      let id = try? await d.imageID(image)
      try? await d.shutdown()
      if id == nil { return "the image \(image) is missing (scripts/etcd-image.sh builds it)" }
    }
    return nil
  }
}

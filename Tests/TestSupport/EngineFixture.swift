import Foundation
import Orchestrator
import XCTest

/// A fixture of one test's own on the local engine: a temporary folder for
/// its manifest and fixture folder, a fixture name no other test uses, and a
/// driver for the engine. `tearDown` destroys what the fixture made, by its
/// name and folder only, then removes the temporary folder.
public final class EngineFixture: @unchecked Sendable {
  public let dir: String
  public let fixture: String
  public let driver: DockerDriver
  public var root: String { dir + "/cthulhu-fixture" }

  /// The engine (skips, or fails under CI=true, without one), then a new
  /// folder `cthulhu-<tag>-…` and a fixture named `<prefix>-…`.
  public static func make(tag: String, prefix: String) async throws -> EngineFixture {
    let driver = try await Harness.engine()
    do {
      return EngineFixture(dir: try Harness.tempDir(tag), fixture: Harness.uniqueName(prefix), driver: driver)
    } catch {
      try await driver.shutdown()
      throw error
    }
  }

  init(dir: String, fixture: String, driver: DockerDriver) {
    self.dir = dir
    self.fixture = fixture
    self.driver = driver
  }

  /// Writes `cthulhu.yaml` in `folder` (default: this fixture's folder).
  public func writeManifest(_ text: String, in folder: String? = nil) throws {
    try text.write(toFile: (folder ?? dir) + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  /// Runs the built `cthulhu` in this fixture's folder.
  @discardableResult
  public func cthulhu(_ args: [String], env: [String: String] = [:]) throws -> Run {
    try Harness.cthulhu(args, in: dir, env: env)
  }

  /// The engine id of instance `name`'s container.
  public func container(_ name: String) async throws -> String {
    let live = try await driver.containers(fixture: fixture)
    return try XCTUnwrap(live.first { $0.labels[Labels.instance] == name }?.id, "no container for \(name)")
  }

  public func tearDown() async throws {
    _ = try? await FixtureController(driver: driver).destroy(root: root, fixture: fixture)
    try? FileManager.default.removeItem(atPath: dir)
    try await driver.shutdown()
  }
}

extension EngineFixture {
  /// The example the apply tests of every engine share: a busybox web
  /// server per instance (`cthulhu-test:latest`) serving its rendered
  /// `etc/config.json` (its ip, name and peers) and `etc/node.conf`
  /// (`tuning=` from `vars.tuning`, on i002 only).
  public enum WebNodes {
    /// Writes `templates/config.json` and `templates/node.conf` in `folder`;
    /// `peer` is how `config.json` lists each peer.
    public static func writeTemplates(in folder: String, peer: String = "{{ p.ip }}") throws {
      try FileManager.default.createDirectory(atPath: folder + "/templates", withIntermediateDirectories: true)
      try """
      {"self": "{{ instance.ip }}", "name": "{{ instance.name }}", "peers": [{% for p in peers %}"\(peer)"{% if not forloop.last %}, {% endif %}{% endfor %}]}

      """.write(toFile: folder + "/templates/config.json", atomically: true, encoding: .utf8)
      try "{% if instance.name == \"i002\" %}tuning={{ vars.tuning }}{% endif %}\n"
        .write(toFile: folder + "/templates/node.conf", atomically: true, encoding: .utf8)
    }

    /// The manifest of `count` such nodes in group `node` (`driver:` given, else the default, docker).
    public static func manifest(fixture: String, driver: String? = nil, count: Int, tuning: String = "1") -> String {
      """
      fixture: \(fixture)
      \(driver.map { "driver: \($0)\n" } ?? "")vars:
        tuning: "\(tuning)"
      groups:
        node:
          image: cthulhu-test:latest
          count: \(count)
          command: ["/bin/sh", "-c", "exec httpd -f -p 8080 -h /opt/app/etc"]
          templates:
            - { source: templates/config.json, target: etc/config.json }
            - { source: templates/node.conf, target: etc/node.conf }
          stop_timeout: 1s

      """
    }
  }
}

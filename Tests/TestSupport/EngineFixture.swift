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

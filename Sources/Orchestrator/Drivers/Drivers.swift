import Foundation
import Manifest

/// The driver for each kind of fixture: one place that makes them.
public enum Drivers {
  /// Runs `body` with the driver for `kind`, and shuts the driver down after,
  /// however `body` ends. Docker and the swarm talk to the engine at
  /// `DOCKER_HOST` (or the local socket); the process driver serves both of
  /// its network modes (the mode travels with the fixture's network).
  public static func with<T>(_ kind: DriverKind, _ body: (any Driver) async throws -> T) async throws -> T {
    switch kind {
    case .docker:
      let driver = try DockerDriver()
      return try await closing(driver, driver.shutdown, body)
    case .swarm:
      let driver = try SwarmDriver()
      return try await closing(driver, driver.shutdown, body)
    case .process:
      return try await body(ProcessDriver())
    }
  }

  private static func closing<T>(
    _ driver: any Driver, _ shutdown: () async throws -> Void, _ body: (any Driver) async throws -> T
  ) async throws -> T {
    do {
      let result = try await body(driver)
      try? await shutdown()
      return result
    } catch {
      try? await shutdown()
      throw error
    }
  }
}

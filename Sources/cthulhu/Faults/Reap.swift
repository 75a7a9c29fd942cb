import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  /// The detached process behind `--for` and `apply --ttl`: waits, then lifts
  /// the faults that have run out, or destroys the fixture whose time is up.
  struct Reap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_reap", shouldDisplay: false)
    @Option var fixture: String
    @Option(help: "Seconds since 1970 when the fault or the fixture expires.") var at: Double
    @Flag(help: "Destroy the fixture (apply --ttl) instead of lifting faults.") var destroy = false
    func run() async throws {
      let wait = at - Date().timeIntervalSince1970
      if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1)) }
      guard let state = try FixtureState.load(root: fixture) else { return }
      try await failing {
        if destroy {
          let r = try await Input.withDriver(state.driver) {
            try await FixtureController(driver: $0, executable: .current).destroyWhenDue(root: fixture, reaper: getpid())
          }
          if let r { Output.out("ttl: destroyed fixture '\(r.fixture)' (\(r.containers.count) instance(s))\n") }
        } else {
          _ = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0, executable: .current).liftExpired(root: fixture) }
        }
      }
    }
  }
}

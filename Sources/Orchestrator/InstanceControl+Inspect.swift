import Foundation
import Manifest

extension InstanceControl {
  /// Runs `command` inside the instance `name` of the fixture at `root`,
  /// waits, and returns its exit code and output.
  public func exec(root: String, instance name: String, command: [String]) async throws -> ExecResult {
    let state = try FixtureState.require(root: root)
    guard let r = state.instance(named: name) else {
      throw OrchestratorError(.noInstance, "fixture '\(state.fixture)' has no instance '\(name)'")
    }
    guard let id = r.containerID else {
      throw OrchestratorError(.noContainer, "instance \(name) has no container (run `cthulhu apply` to recreate it)")
    }
    return try await driver.exec(id: id, command: command)
  }

  /// The output of the instances `names` of the fixture at `root`, merged
  /// in the order it arrives; `follow` keeps the streams open, `since`
  /// leaves older lines out. Instances without a container are skipped.
  public func logs(
    root: String, names: [String], follow: Bool = false, since: Date? = nil
  ) throws -> AsyncThrowingStream<(instance: String, line: LogLine), any Error> {
    let state = try FixtureState.require(root: root)
    let sources = names.compactMap { n in state.instance(named: n)?.containerID.map { (n, $0) } }
    let driver = self.driver
    return AsyncThrowingStream { continuation in
      let task = Task {
        do {
          await driver.collectLogs(ids: sources.map(\.1))
          try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, id) in sources {
              group.addTask {
                for try await line in driver.logs(id: id, follow: follow, since: since, timestamps: false) {
                  continuation.yield((name, line))
                }
              }
            }
            try await group.waitForAll()
          }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

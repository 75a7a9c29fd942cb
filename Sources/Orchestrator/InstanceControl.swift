import Foundation
import Manifest

/// Start, stop and signal instances of a running fixture.
public enum LifecycleVerb: String, Sendable, CaseIterable {
  case start, stop, restart, kill, pause, unpause
}

extension InstanceControl {
  /// Applies `verb` to the named instances (every instance when `names` is
  /// empty). Succeeds when an instance is already in the wanted state, as
  /// the original tool's `control start|stop` did.
  public func lifecycle(
    _ verb: LifecycleVerb, root: String, names: [String] = [], signal: String = "KILL"
  ) async throws -> [String] {
    let state = try FixtureState.require(root: root)
    let known = Set(state.instances.map(\.name))
    if let bad = names.first(where: { !known.contains($0) }) {
      throw OrchestratorError(
        .noInstance, "fixture '\(state.fixture)' has no instance '\(bad)' (it has \(state.instances.map(\.name).joined(separator: ", ")))")
    }
    let wanted = names.isEmpty ? known : Set(names)
    let live = try await driver.containers(fixture: state.fixture).byInstance()
    var done: [String] = []
    var published: [String: [PortBinding]] = [:]
    try await withThrowingTaskGroup(of: (String, [PortBinding]?)?.self) { group in
      for r in state.instances where wanted.contains(r.name) {
        guard let c = live[r.name] else {
          throw OrchestratorError(.noContainer, "instance \(r.name) has no container (run `cthulhu apply` to recreate it)")
        }
        let timeout = r.spec?.stopTimeout
        group.addTask {
          switch (verb, c.state) {
          case (.start, .running), (.stop, .exited), (.stop, .created), (.pause, .paused), (.unpause, .running):
            return nil
          case (.start, .paused): try await driver.unpause(id: c.id)
          case (.start, _): try await driver.start(id: c.id)
          case (.stop, .paused):
            try await driver.unpause(id: c.id)
            try await driver.stop(id: c.id, timeout: timeout)
          case (.stop, _): try await driver.stop(id: c.id, timeout: timeout)
          case (.restart, _): try await driver.restart(id: c.id, timeout: timeout)
          case (.kill, _): try await driver.kill(id: c.id, signal: signal)
          case (.pause, _): try await driver.pause(id: c.id)
          case (.unpause, _): try await driver.unpause(id: c.id)
          }
          if verb == .start || verb == .restart {
            let d = try await driver.inspect(id: c.id)
            try? FixtureWriter(paths: FixturePaths(root: root)).writePID(d.pid, ip: r.ip)
            // An engine-chosen host port may differ after a start.
            return (r.name, d.ports.isEmpty || d.ports == r.ports ? nil : d.ports)
          }
          return (r.name, nil)
        }
      }
      for try await result in group {
        guard let (name, ports) = result else { continue }
        done.append(name)
        if let ports { published[name] = ports }
      }
    }
    if !published.isEmpty { try recordPorts(published, root: root) }
    // A started container has a fresh network namespace: put its faults back.
    if verb == .start || verb == .restart {
      try await faults.reapplyFaults(root: root, names: done)
    }
    EventLog(root: root).append(
      Event(
        actor: "control[\(getpid())]", kind: .lifecycle, action: verb == .kill ? "kill \(signal)" : verb.rawValue,
        targets: names.isEmpty ? ["all"] : names, instances: done.sorted(),
        detail: done.isEmpty ? "nothing to do" : done.sorted().joined(separator: ",")))
    return done.sorted()
  }
}

extension InstanceControl {
  /// Records host ports the engine published anew and rewrites `spec.json`,
  /// under the fixture lock (an apply holding it for long is not waited for:
  /// its own index will hold the ports it sees).
  func recordPorts(_ published: [String: [PortBinding]], root: String) throws {
    let paths = FixturePaths(root: root)
    guard let lock = try? FixtureLock(paths: paths, command: "start", wait: .seconds(5)) else { return }
    defer { lock.release() }
    guard var state = try FixtureState.load(root: root) else { return }
    for (name, ports) in published {
      guard var r = state.instance(named: name) else { continue }
      r.ports = ports
      state.upsert(r)
    }
    state.updatedAt = Date()
    try state.save()
    try AtomicFile.write(try SpecFile.make(state: state), to: paths.spec)
  }
}

import Foundation

/// What a crash undid on one instance: per mount with faults, what its disk
/// layer rolled back to the durable state.
public struct CrashReport: Sendable, Codable, Equatable {
  public struct Mount: Sendable, Codable, Equatable {
    /// The mount's name in the manifest.
    public var mount: String
    public var loss: LossReport
  }

  public var instance: String
  public var mounts: [Mount]

  /// For people: `i001: data lost 3 files' unsynced writes (1,204 bytes restored), 2 names`.
  public var summary: String {
    "\(instance): "
      + mounts.map { m in
        let l = m.loss
        var s = "\(m.mount) lost the unsynced writes of \(l.files) file(s) (\(l.bytesRestored) bytes restored), \(l.namesRemoved) name(s)"
        if !l.torn.isEmpty { s += ", \(l.torn.count) torn write(s)" }
        return s
      }.joined(separator: "; ")
  }
}

extension InstanceControl {
  /// `kill --lose-unsynced`: SIGKILL to each named instance, and once it is
  /// down, every write it made that was not made durable is lost, on each
  /// of its mounts with faults (see docs/disk-faults.md); with `torn`, the
  /// last unsynced write of a file survives in part. The instances stay
  /// down (`start` brings them back, as after `kill`). Refused, changing
  /// nothing, when an instance has no such mount or its layer does not run.
  public func crash(root: String, names: [String], torn: Bool, seed: UInt64) async throws -> [CrashReport] {
    let state = try FixtureState.require(root: root)
    guard !names.isEmpty else { throw OrchestratorError(.badTargets, "a crash needs the instances it kills") }
    let wanted = Dictionary(grouping: try DiskLayers(root: root).serving(names, state: state), by: \.instance)
    let killed = try await lifecycle(.kill, root: root, names: names, signal: "KILL")
    try await waitUntilDown(killed, fixture: state.fixture)
    var reports: [CrashReport] = []
    for name in names.sorted() {
      var report = CrashReport(instance: name, mounts: [])
      for l in wanted[name] ?? [] {
        let reply = try DiskLayerClient.request(.loseUnsynced(torn: torn, seed: l.seed(seed)), socket: l.socket)
        report.mounts.append(.init(mount: l.mount, loss: reply.loss ?? LossReport(files: 0, bytesRestored: 0, namesRemoved: 0, torn: [])))
      }
      reports.append(report)
    }
    EventLog(root: root).append(
      Event(
        actor: "control[\(getpid())]", kind: .lifecycle, action: "kill --lose-unsynced" + (torn ? " --torn" : ""), targets: names,
        instances: names.sorted(), detail: reports.map(\.summary).joined(separator: " | ")))
    return reports
  }

  /// Waits until none of `names` runs: a write still in flight in a
  /// process that is going could otherwise land after the roll-back.
  func waitUntilDown(_ names: [String], fixture: String) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while true {
      let live = try await driver.containers(fixture: fixture).byInstance()
      let up = names.filter { n in live[n].map { $0.state == .running || $0.state == .paused || $0.state == .restarting } ?? false }
      if up.isEmpty { return }
      guard ContinuousClock.now < deadline else {
        throw OrchestratorError(.io, "\(up.joined(separator: ", ")) still ran 30 s after SIGKILL; nothing was rolled back")
      }
      try await Task.sleep(for: .milliseconds(20))
    }
  }
}

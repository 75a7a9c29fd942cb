import Foundation
import Manifest

/// `cthulhu nemesis start|stop|status`: a manifest's schedule of faults, run
/// by a detached `cthulhu _nemesis` process owned like the `--for` reaper
/// (its own session, output in `.cthulhu/helpers.log`, recorded in
/// `.cthulhu/nemesis.json`, stopped by `destroy`). Every fault and heal goes
/// through the same calls as the fault and lifecycle commands (``inject``,
/// ``lift``, ``lifecycle``), so `cthulhu faults` lists them and
/// `events.jsonl` has each one with its time.
extension NemesisRunner {
  /// What `nemesis status` shows.
  public struct NemesisStatus: Sendable {
    public var record: NemesisRecord
    /// Its process is alive (the `cthulhu _nemesis`, or the run that drives it).
    public var running: Bool
    /// The `cthulhu test` run that drives it in process, while that run is alive.
    public var run: NemesisRunRecord?
    /// It ended without `nemesis stop` or its last step (killed): what it
    /// left in force is in `record.active` and the faults tagged ``NemesisRecord/owner``.
    public var died: Bool
    /// Network faults of a nemesis still in force.
    public var faults: [Fault]
  }

  /// What `nemesis stop` did.
  public struct NemesisStopReport: Sendable {
    /// The process was running (else it had finished, or died).
    public var wasRunning: Bool
    public var lifted: [Fault]
    /// Instances started or unpaused again.
    public var restored: [String]
    public var failures: [String]
    /// The changes that brought the groups a `grow` or `shrink` changed
    /// back to their manifest's counts.
    public var changes: [GroupChange] = []
  }

  /// Starts the schedule in the background. Refused while a nemesis runs,
  /// or when the last one died leaving faults (`nemesis stop` heals them
  /// first), or when a target names no instance of the fixture.
  @discardableResult
  public func startNemesis(_ schedule: NemesisSchedule, root: String) async throws -> NemesisRecord {
    let executable = try requireExecutable(for: "nemesis start (the detached cthulhu _nemesis)")
    let state = try FixtureState.require(root: root)
    let lock = try FixtureLock(paths: FixturePaths(root: root), command: "nemesis start", file: "nemesis.lock", wait: .seconds(30))
    defer { lock.release() }
    try Self.refuseWhileANemesisHolds(root: root)
    let refs = try Self.nemesisInstances(schedule, state: state)
    var record = NemesisRecord(startedAt: Date(), schedule: schedule, instances: refs)
    try record.save(root: root)
    let pid = try HelperProcess.spawn(executable, .nemesis, arguments: ["--fixture", root], root: root)
    // The process writes its PID into the record when it begins: wait for it.
    let deadline = ContinuousClock.now + .seconds(15)
    while true {
      if let r = try? NemesisRecord.load(root: root), r.pid == pid {
        record = r
        break
      }
      guard ContinuousClock.now < deadline, HelperProcess.isAlive(pid) else {
        kill(pid, SIGKILL)
        throw OrchestratorError(.io, "the nemesis process (pid \(pid)) did not start; see \(root)/.cthulhu/helpers.log")
      }
      try await Task.sleep(for: .milliseconds(20))
    }
    EventLog(root: root).append(
      Event(
        actor: "nemesis[\(pid)]", kind: .nemesisStart, action: "nemesis start", targets: ["all"],
        detail: "seed \(schedule.seed), \(schedule.faults.count) fault(s)"
          + (record.next.map { "; first \($0.label) at \(TimeText.clock($0.at, milliseconds: false))" } ?? "")))
    return record
  }

  /// The body of `cthulhu _nemesis`, and of the nemesis of `cthulhu test`:
  /// runs the recorded schedule step by step until it is done or
  /// `stopping` says so (checked every 50 ms and between steps, never in
  /// the middle of one). `observer` is told of each step as it starts and ends.
  public func runNemesis(root: String, observer: (any NemesisObserver)? = nil, stopping: @Sendable () -> Bool) async throws {
    let me = getpid()
    guard var record = try NemesisRecord.load(root: root) else {
      throw OrchestratorError(.noNemesis, "\(root) has no nemesis record: start one with `cthulhu nemesis start`")
    }
    record.pid = me
    record.startedAt = Date()
    let t0 = record.startedAt
    let log = EventLog(root: root)
    let actor = "nemesis[\(me)]"
    var timeline = NemesisTimeline(schedule: record.schedule, instances: record.instances)
    var upcoming = timeline.next()
    func announce() throws {
      record.next = upcoming.map { s in
        let a = record.schedule.faults[s.entry].action
        return .init(
          at: t0.addingTimeInterval(Double(s.atMs) / 1000), label: s.label, summary: s.heal ? a.describeHeal(s.names) : a.describe(s.names),
          heal: s.heal, names: s.names)
      }
      try record.save(root: root)
    }
    try announce()
    while let step = upcoming {
      let due = t0.addingTimeInterval(Double(step.atMs) / 1000)
      while Date() < due, !stopping() {
        guard FileManager.default.fileExists(atPath: root + "/.cthulhu") else { return }  // destroyed
        try await Task.sleep(for: .milliseconds(max(1, min(50, Int64(due.timeIntervalSinceNow * 1000)))))
      }
      if stopping() { return }
      let f = record.schedule.faults[step.entry]
      let began = Date()
      if step.heal, let i = record.active.firstIndex(where: { $0.entry == step.entry && $0.occurrence == step.occurrence }) {
        let names = record.active[i].names
        let start = NemesisStepStart(label: step.label, phase: .heal, action: f.action, targets: names, summary: f.action.describeHeal(names))
        observer?.nemesisStepStarts(start)
        let end = await heal(start, active: i, record: &record, root: root, log: log, actor: actor)
        observer?.nemesisStepEnded(end)
        record.recordDone(end.done(at: began))
      } else if step.heal {
        // Its occurrence never came into force: nothing to heal, nothing done.
        record.recordDone(
          NemesisRecord.Done(
            time: began, label: step.label, action: "heal", kind: f.action.keyword, targets: step.names, outcome: "skipped",
            summary: f.action.describeHeal(step.names)))
      } else {
        let start = NemesisStepStart(
          label: step.label, phase: .fault, action: f.action, targets: f.targets.command == nil && !f.action.isMembership ? step.names : [],
          summary: f.action.describe(step.names))
        observer?.nemesisStepStarts(start)
        let end = await begin(
          step, start, fault: f, healAt: due.addingTimeInterval(f.lasting.seconds), record: &record, root: root, log: log, actor: actor)
        observer?.nemesisStepEnded(end)
        record.recordDone(end.done(at: began))
      }
      record.stepsDone += 1
      // After a membership change, later occurrences draw from the fixture as it is.
      timeline.instances = record.instances
      upcoming = timeline.next()
      try announce()
    }
    record.pid = nil
    record.endedAt = Date()
    record.ended = "finished"
    try record.save(root: root)
    log.append(
      Event(actor: actor, kind: .nemesisEnd, action: "nemesis end", targets: ["all"], detail: "finished, \(record.stepsDone) step(s)"))
  }

  /// Stops the nemesis (it finishes the step it is in) and heals everything
  /// it caused: the network faults it made (its record's, and any tagged as
  /// its own), and the instances it killed, stopped or paused. Works as
  /// well after the process died.
  public func stopNemesis(root: String) async throws -> NemesisStopReport {
    _ = try FixtureState.require(root: root)
    let lock = try FixtureLock(paths: FixturePaths(root: root), command: "nemesis stop", file: "nemesis.lock", wait: .seconds(30))
    defer { lock.release() }
    if let run = NemesisRunRecord.live(root: root), !run.isMine {
      throw OrchestratorError(
        .locked,
        "the nemesis runs in process, driven by \(run): it stops and heals when that run ends; interrupt the run (kill -INT \(run.pid)) to end it sooner"
      )
    }
    guard var record = try NemesisRecord.load(root: root) else {
      throw OrchestratorError(.noNemesis, "no nemesis was started on this fixture (`cthulhu nemesis start` starts one)")
    }
    var report = NemesisStopReport(wasRunning: false, lifted: [], restored: [], failures: [])
    if let pid = record.pid, HelperProcess.isRunning(pid: pid, .nemesis, root: root) {
      report.wasRunning = true
      await HelperProcess.stop(pid: pid, .nemesis, root: root, patience: .seconds(30))
    }
    // What it recorded last (it may have written after this was read).
    record = (try? NemesisRecord.load(root: root)) ?? record
    let ids = record.active.compactMap(\.faultID)
    let owned = try FaultBook.load(root: root).faults.contains { $0.owner == NemesisRecord.owner || ids.contains($0.id) }
    if owned {
      do { report.lifted = try await faults.lift(root: root, ids: ids, owner: NemesisRecord.owner) } catch { report.failures.append("\(error)") }
    }
    for verb in [LifecycleVerb.unpause, .start] {
      let names = record.active.filter { record.schedule.faults[safe: $0.entry]?.action.healVerb == verb }.flatMap(\.names)
      guard !names.isEmpty else { continue }
      do {
        report.restored += try await control.lifecycle(verb, root: root, names: Array(Set(names)).sorted())
      } catch {
        report.failures.append("\(verb.rawValue) \(names.joined(separator: ",")): \(error)")
      }
    }
    // The faults healed first: a cluster whole again takes its changes best.
    let regrouped = await restoreGroups(record.schedule, root: root)
    report.changes = regrouped.changes.filter { $0.skipped == nil }
    report.failures += regrouped.failures
    if !regrouped.changes.isEmpty {
      record.instances = try FixtureState.require(root: root).instances.map { NemesisTimeline.InstanceRef(name: $0.name, group: $0.group) }
    }
    record.pid = nil
    record.active = []
    record.next = nil
    if record.ended == nil {
      record.ended = "stopped"
      record.endedAt = Date()
    }
    try record.save(root: root)
    var what = report.lifted.map(\.id) + report.restored + report.changes.map(\.summary)
    if what.isEmpty { what = ["nothing to heal"] }
    EventLog(root: root).append(
      report.failures.isEmpty
        ? Event(
          actor: "nemesis[\(getpid())]", kind: .nemesisStop, action: "nemesis stop", targets: ["all"],
          detail: "healed \(what.joined(separator: ","))",
          lifted: report.lifted.map(\.id))
        : Event(
          actor: "nemesis[\(getpid())]", kind: .nemesisStop, action: "nemesis stop", targets: ["all"],
          failed: report.failures.joined(separator: "; ")))
    if !report.failures.isEmpty {
      throw OrchestratorError(.io, "the nemesis is stopped, but not everything it caused healed: " + report.failures.joined(separator: "; "))
    }
    return report
  }

  /// The nemesis of `root`, or nil when none was ever started.
  public static func nemesisStatus(root: String) throws -> NemesisStatus? {
    guard let record = try NemesisRecord.load(root: root) else { return nil }
    let run = NemesisRunRecord.live(root: root)
    let running = run != nil || (record.pid.map { HelperProcess.isRunning(pid: $0, .nemesis, root: root) } ?? false)
    let faults = try FaultBook.load(root: root).faults.filter { $0.owner == NemesisRecord.owner }
    let died = !running && record.ended == nil
    return NemesisStatus(record: record, running: running, run: run, died: died, faults: faults)
  }

  /// Ends the nemesis of `root` without healing (destroy: the namespaces go anyway).
  func stopNemesisProcess(root: String) async {
    guard let pid = (try? NemesisRecord.load(root: root))??.pid else { return }
    await HelperProcess.stop(pid: pid, .nemesis, root: root, patience: .seconds(10))
  }
}

extension Array {
  subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}

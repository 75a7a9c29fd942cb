import Foundation
import Manifest

/// `cthulhu nemesis start|stop|status`: a manifest's schedule of faults, run
/// by a detached `cthulhu _nemesis` process owned like the `--for` reaper
/// (its own session, output in `.cthulhu/helpers.log`, recorded in
/// `.cthulhu/nemesis.json`, stopped by `destroy`). Every fault and heal goes
/// through the same calls as the fault and lifecycle commands (``inject``,
/// ``lift``, ``lifecycle``), so `cthulhu faults` lists them and
/// `events.jsonl` has each one with its time.
extension FixtureController {
  /// What `nemesis status` shows.
  public struct NemesisStatus: Sendable {
    public var record: NemesisRecord
    /// Its process is alive.
    public var running: Bool
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

  /// The body of `cthulhu _nemesis`: runs the recorded schedule step by
  /// step until it is done or `stopping` says so (checked every 50 ms and
  /// between steps, never in the middle of one).
  public func runNemesis(root: String, stopping: @Sendable () -> Bool) async throws {
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
      let done: NemesisRecord.Done
      if step.heal {
        done = await heal(step, fault: f, record: &record, root: root, log: log, actor: actor)
      } else {
        let healAt = due.addingTimeInterval(f.lasting.seconds)
        done = await begin(step, fault: f, healAt: healAt, record: &record, root: root, log: log, actor: actor)
      }
      record.recordDone(done)
      record.stepsDone += 1
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

  /// Puts an occurrence in force and records it; says how it went.
  func begin(
    _ step: NemesisStep, fault f: NemesisFault, healAt: Date, record: inout NemesisRecord, root: String, log: EventLog, actor: String
  ) async -> NemesisRecord.Done {
    var step = step
    if let command = f.targets.command {
      // Chosen now: "the current primary" is whoever it is at this moment.
      do {
        let chosen = try await NemesisTargetCommand(command: command, directory: f.targets.directory, root: root).choose(
          among: record.instances.map(\.name), entry: step.entry + 1, fewest: f.action.fewestTargets,
          most: f.action == .partition(.cut) ? record.instances.count - 1 : nil)
        let timeline = NemesisTimeline(schedule: record.schedule, instances: record.instances)
        step.names = timeline.names(entry: step.entry, occurrence: step.occurrence, chosen: chosen)
      } catch {
        record.lastError = "\(step.label): \(error)"
        log.append(Event(actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: [], failed: "\(error)"))
        return NemesisRecord.Done(
          time: Date(), label: step.label, action: "fault", kind: f.action.keyword, targets: [], outcome: "failed",
          summary: f.action.describe([]), error: "\(error)")
      }
    }
    let summary = f.action.describe(step.names)
    var done = NemesisRecord.Done(
      time: Date(), label: step.label, action: "fault", kind: f.action.keyword, targets: step.names, outcome: "ok", summary: summary)
    guard !step.names.isEmpty else {
      record.lastError = "\(step.label): '\(f.targets)' names no instance of the fixture"
      log.append(Event(actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: [], failed: record.lastError!))
      done.outcome = "failed"
      done.error = record.lastError
      return done
    }
    var active = NemesisRecord.Active(
      entry: step.entry, occurrence: step.occurrence, names: step.names, summary: summary, since: Date(), healAt: healAt)
    do {
      switch f.action.start(on: step.names, among: record.instances.map(\.name)) {
      case .fault(let request):
        let made = try await inject(request, root: root, owner: NemesisRecord.owner)
        active.faultID = made.id
        active.summary = "\(made.id) \(made.summary)"
        record.active.append(active)
      case .lifecycle(let verb, let names, let signal):
        // Recorded first: a nemesis killed during the verb still leaves
        // what `nemesis stop` must undo. One instance at a time, so that
        // only those it reached are healed.
        record.active.append(active)
        try record.save(root: root)
        var done: [String] = []
        var failures: [String] = []
        for name in names {
          do {
            _ = try await lifecycle(verb, root: root, names: [name], signal: signal)
            done.append(name)
          } catch {
            failures.append("\(error)")
          }
        }
        record.active.removeLast()
        if !done.isEmpty {
          active.names = done
          active.summary = f.action.describe(done)
          record.active.append(active)
        }
        if !failures.isEmpty { throw OrchestratorError(.io, failures.joined(separator: "; ")) }
      }
      log.append(
        Event(
          actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: step.names, instances: active.names,
          detail: active.summary,
          fault: active.faultID))
      done.faultID = active.faultID
      done.targets = active.names
      done.summary = active.summary
    } catch {
      record.lastError = "\(step.label) \(summary): \(error)"
      log.append(
        Event(
          actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: step.names, instances: step.names, failed: "\(error)"))
      done.faultID = active.faultID
      done.outcome = "failed"
      done.error = "\(error)"
    }
    return done
  }

  /// Heals an occurrence: lifts its fault, or starts / unpauses its instances.
  func heal(_ step: NemesisStep, fault f: NemesisFault, record: inout NemesisRecord, root: String, log: EventLog, actor: String) async
    -> NemesisRecord.Done
  {
    var done = NemesisRecord.Done(
      time: Date(), label: step.label, action: "heal", kind: f.action.keyword, targets: step.names, outcome: "skipped",
      summary: f.action.describeHeal(step.names))
    guard let i = record.active.firstIndex(where: { $0.entry == step.entry && $0.occurrence == step.occurrence }) else { return done }
    let a = record.active[i]
    done.targets = a.names
    done.faultID = a.faultID
    done.summary = f.action.describeHeal(a.names)
    do {
      if let id = a.faultID {
        try await lift(root: root, ids: [id])
        record.active.remove(at: i)
      } else if let verb = f.action.healVerb {
        // What cannot be healed now stays recorded, for `nemesis stop` to try again.
        var left: [String] = []
        var failures: [String] = []
        for name in a.names {
          do { _ = try await lifecycle(verb, root: root, names: [name]) } catch {
            left.append(name)
            failures.append("\(error)")
          }
        }
        if left.isEmpty { record.active.remove(at: i) } else { record.active[i].names = left }
        if !failures.isEmpty { throw OrchestratorError(.io, failures.joined(separator: "; ")) }
      }
      log.append(
        Event(
          actor: actor, kind: .nemesisHeal, action: "nemesis heal \(step.label)", targets: a.names, instances: a.names,
          detail: f.action.describeHeal(a.names),
          lifted: a.faultID.map { [$0] }))
      done.outcome = "ok"
    } catch {
      record.lastError = "\(step.label) heal: \(error)"
      log.append(
        Event(actor: actor, kind: .nemesisHeal, action: "nemesis heal \(step.label)", targets: a.names, instances: a.names, failed: "\(error)"))
      done.outcome = "failed"
      done.error = "\(error)"
    }
    return done
  }

  /// Stops the nemesis (it finishes the step it is in) and heals everything
  /// it caused: the network faults it made (its record's, and any tagged as
  /// its own), and the instances it killed, stopped or paused. Works as
  /// well after the process died.
  public func stopNemesis(root: String) async throws -> NemesisStopReport {
    _ = try FixtureState.require(root: root)
    let lock = try FixtureLock(paths: FixturePaths(root: root), command: "nemesis stop", file: "nemesis.lock", wait: .seconds(30))
    defer { lock.release() }
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
      do { report.lifted = try await lift(root: root, ids: ids, owner: NemesisRecord.owner) } catch { report.failures.append("\(error)") }
    }
    for verb in [LifecycleVerb.unpause, .start] {
      let names = record.active.filter { record.schedule.faults[safe: $0.entry]?.action.healVerb == verb }.flatMap(\.names)
      guard !names.isEmpty else { continue }
      do {
        report.restored += try await lifecycle(verb, root: root, names: Array(Set(names)).sorted())
      } catch {
        report.failures.append("\(verb.rawValue) \(names.joined(separator: ",")): \(error)")
      }
    }
    record.pid = nil
    record.active = []
    record.next = nil
    if record.ended == nil {
      record.ended = "stopped"
      record.endedAt = Date()
    }
    try record.save(root: root)
    var what = report.lifted.map(\.id) + report.restored
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
    let running = record.pid.map { HelperProcess.isRunning(pid: $0, .nemesis, root: root) } ?? false
    let faults = try FaultBook.load(root: root).faults.filter { $0.owner == NemesisRecord.owner }
    let died = !running && record.ended == nil
    return NemesisStatus(record: record, running: running, died: died, faults: faults)
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

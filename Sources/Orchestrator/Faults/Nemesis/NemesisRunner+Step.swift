import Foundation
import Manifest

/// One step of ``NemesisRunner/runNemesis(root:observer:stopping:)``:
/// an occurrence put in force, or healed, through the same calls as the
/// fault and lifecycle commands, logged in `events.jsonl` and kept in the
/// nemesis record.
extension NemesisRunner {
  /// Puts an occurrence in force and records it; says how it went.
  func begin(
    _ step: NemesisStep, _ start: NemesisStepStart, fault f: NemesisFault, healAt: Date, record: inout NemesisRecord, root: String,
    log: EventLog, actor: String
  ) async -> NemesisStepEnd {
    if case .change(let group, let kind, let bound) = f.action.start(on: [], among: []) {
      return await change(group, kind, bound: bound, start, record: &record, root: root, log: log, actor: actor)
    }
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
        return NemesisStepEnd(step: start, outcome: .failed("\(error)"), targets: [], summary: f.action.describe([]))
      }
    }
    let summary = f.action.describe(step.names)
    guard !step.names.isEmpty else {
      let why = "'\(f.targets)' names no instance of the fixture"
      record.lastError = "\(step.label): \(why)"
      log.append(Event(actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: [], failed: record.lastError!))
      return NemesisStepEnd(step: start, outcome: .failed(record.lastError!), targets: [], summary: summary)
    }
    var active = NemesisRecord.Active(
      entry: step.entry, occurrence: step.occurrence, names: step.names, summary: summary, since: Date(), healAt: healAt)
    do {
      switch f.action.start(on: step.names, among: record.instances.map(\.name)) {
      case .fault(let request):
        let made = try await faults.inject(request, root: root, owner: NemesisRecord.owner)
        active.faultID = made.id
        active.summary = "\(made.id) \(made.summary)"
        record.active.append(active)
      case .lifecycle(let verb, let names, let signal):
        try await eachInstance(names, active: &active, fault: f, record: &record, root: root) { name in
          _ = try await control.lifecycle(verb, root: root, names: [name], signal: signal)
        }
      case .crash(let names, let torn):
        // (Not the draw of the targets' own seed: another stream of the same.)
        let seed = ~NemesisTimeline.seed(record.schedule.seed, entry: step.entry, occurrence: step.occurrence)
        // All at once, as a power cut takes them. Recorded first and kept
        // whole if the crash fails midway: `start` heals whichever it killed.
        record.active.append(active)
        try record.save(root: root)
        let reports = try await control.crash(root: root, names: names, torn: torn, seed: seed)
        active.summary += " (" + reports.map(\.summary).joined(separator: "; ") + ")"
        record.active[record.active.count - 1] = active
      case .change:
        break  // made above, before any target is drawn
      }
      log.append(
        Event(
          actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: step.names, instances: active.names,
          detail: active.summary, fault: active.faultID))
      return NemesisStepEnd(step: start, outcome: .ok, targets: active.names, faultID: active.faultID, summary: active.summary)
    } catch {
      record.lastError = "\(step.label) \(summary): \(error)"
      log.append(
        Event(
          actor: actor, kind: .nemesisFault, action: "nemesis fault \(step.label)", targets: step.names, instances: step.names,
          failed: "\(error)"))
      return NemesisStepEnd(step: start, outcome: .failed("\(error)"), targets: step.names, faultID: active.faultID, summary: summary)
    }
  }

  /// Runs `body` on each instance of a lifecycle step, one at a time, the
  /// step recorded first (a nemesis killed during it still leaves what
  /// `nemesis stop` must undo) and, after, only with those it reached.
  private func eachInstance(
    _ names: [String], active: inout NemesisRecord.Active, fault f: NemesisFault, record: inout NemesisRecord, root: String,
    _ body: (String) async throws -> Void
  ) async throws {
    record.active.append(active)
    try record.save(root: root)
    var done: [String] = []
    var failures: [String] = []
    for name in names {
      do {
        try await body(name)
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

  /// Heals the occurrence at `record.active[i]`: lifts its fault, or starts
  /// / unpauses its instances. What cannot be healed now stays recorded,
  /// for `nemesis stop` to try again.
  func heal(_ start: NemesisStepStart, active i: Int, record: inout NemesisRecord, root: String, log: EventLog, actor: String) async
    -> NemesisStepEnd
  {
    let a = record.active[i]
    let summary = start.action.describeHeal(a.names)
    do {
      if let id = a.faultID {
        try await faults.lift(root: root, ids: [id])
        record.active.remove(at: i)
      } else if let verb = start.action.healVerb {
        var left: [String] = []
        var failures: [String] = []
        for name in a.names {
          do { _ = try await control.lifecycle(verb, root: root, names: [name]) } catch {
            left.append(name)
            failures.append("\(error)")
          }
        }
        if left.isEmpty { record.active.remove(at: i) } else { record.active[i].names = left }
        if !failures.isEmpty { throw OrchestratorError(.io, failures.joined(separator: "; ")) }
      }
      log.append(
        Event(
          actor: actor, kind: .nemesisHeal, action: "nemesis heal \(start.label)", targets: a.names, instances: a.names, detail: summary,
          lifted: a.faultID.map { [$0] }))
      return NemesisStepEnd(step: start, outcome: .ok, targets: a.names, faultID: a.faultID, summary: summary)
    } catch {
      record.lastError = "\(start.label) heal: \(error)"
      log.append(
        Event(
          actor: actor, kind: .nemesisHeal, action: "nemesis heal \(start.label)", targets: a.names, instances: a.names, failed: "\(error)"))
      return NemesisStepEnd(step: start, outcome: .failed("\(error)"), targets: a.names, faultID: a.faultID, summary: summary)
    }
  }
}

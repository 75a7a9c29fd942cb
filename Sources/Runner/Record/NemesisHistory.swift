import Foundation
import History
import Manifest
import Orchestrator
import Synchronization

/// The nemesis of a run in its history.jsonl, as Jepsen writes its nemesis:
/// operations of the process `"nemesis"`, an invoke when a step starts and
/// a completion when it took effect (`ok`) or failed (`info`, with its
/// `error`: a fault that failed may have taken effect in part), timed on
/// the clients' clock (the same writer and lock). Jepsen types both halves
/// `info`; here an invoke pairs with its completion as a client's does. `f` names the fault
/// (`partition`, `kill`, `delay`, `clock`, …) or `heal`; the last heal is
/// the one that ends the run's nemesis (`label` `stop`).
///
/// results.json's `faults` (which report.html shades) are made here from
/// the same completions: a fault in force from its `ok` to its heal's
/// `ok`, in seconds from the run's start on that clock.
final class NemesisHistory: NemesisObserver {
  private let history: HistoryWriter
  /// The history's clock at the run's start (results.json's `monotonicStartNs`).
  private let origin: UInt64
  private struct Periods {
    /// In force, by step label.
    var open: [String: RunResults.FaultPeriod] = [:]
    var closed: [RunResults.FaultPeriod] = []
  }
  private let periods = Mutex(Periods())

  init(history: HistoryWriter, origin: UInt64) {
    self.history = history
    self.origin = origin
  }

  func nemesisStepStarts(_ step: NemesisStepStart) {
    var value = Self.parameters(step.action)
    value["label"] = .string(step.label)
    value["kind"] = .string(step.action.keyword)
    value["targets"] = .array(step.targets.map(HistoryValue.string))
    value["summary"] = .string(step.summary)
    history.appendNemesis(type: .invoke, f: Self.f(step), value: .object(value))
  }

  func nemesisStepEnded(_ end: NemesisStepEnd) {
    var value = Self.parameters(end.step.action)
    value["label"] = .string(end.step.label)
    value["kind"] = .string(end.step.action.keyword)
    value["targets"] = .array(end.targets.map(HistoryValue.string))
    value["summary"] = .string(end.summary)
    if let id = end.faultID { value["faultID"] = .string(id) }
    if case .failed(let why) = end.outcome { value["error"] = .string(why) }
    if end.step.action.isMembership { value.merge(Self.change(end)) { _, new in new } }
    let time = history.appendNemesis(type: end.outcome == .ok ? .ok : .info, f: Self.f(end.step), value: .object(value))
    // A membership change is made, not put in force: no period.
    guard end.outcome == .ok, !end.step.action.isMembership else { return }
    let at = seconds(time)
    periods.withLock { p in
      switch end.step.phase {
      case .fault: p.open[end.step.label] = RunResults.FaultPeriod(name: end.summary, start: at, end: nil)
      case .heal:
        guard var period = p.open.removeValue(forKey: end.step.label) else { return }
        period.end = at
        p.closed.append(period)
      }
    }
  }

  /// The heal at the run's end (`stopNemesis`) starts.
  func stopStarts() {
    history.appendNemesis(
      type: .invoke, f: "heal", value: .object(["label": .string("stop"), "summary": .string("heal everything the nemesis caused")]))
  }

  /// It ended: what it healed, or why it did not heal everything (what was
  /// in force then is counted in force to the run's end).
  func stopEnded(_ result: Result<FixtureController.NemesisStopReport, any Error>) {
    var value: [String: HistoryValue] = ["label": .string("stop")]
    switch result {
    case .success(let r):
      value["lifted"] = .array(r.lifted.map { .string($0.id) })
      value["restored"] = .array(r.restored.map(HistoryValue.string))
      if !r.changes.isEmpty { value["changes"] = .array(r.changes.map { .string($0.summary) }) }
      value["summary"] = .string(r.lifted.isEmpty && r.restored.isEmpty ? "nothing to heal" : "healed everything the nemesis caused")
    case .failure(let error):
      value["error"] = .string("\(error)")
    }
    let time = history.appendNemesis(type: (try? result.get()) == nil ? .info : .ok, f: "heal", value: .object(value))
    guard (try? result.get()) != nil else { return }
    periods.withLock { p in
      p.closed += p.open.values.map { RunResults.FaultPeriod(name: $0.name, start: $0.start, end: seconds(time)) }
      p.open = [:]
    }
  }

  /// results.json's `faults`: each fault from its `ok` to its heal's (no
  /// end: never healed within the run), by start.
  var faults: [RunResults.FaultPeriod] {
    periods.withLock { p in (p.closed + p.open.values).sorted { ($0.start, $0.name) < ($1.start, $1.name) } }
  }

  private func seconds(_ time: UInt64) -> Double {
    ((Double(time) - Double(origin)) / 1e6).rounded() / 1000
  }

  /// The operation's `f`: the fault's keyword, or `heal`.
  static func f(_ step: NemesisStepStart) -> String {
    step.phase == .heal ? "heal" : step.action.keyword
  }

  /// A `grow` or `shrink`'s result: `instance` (that joined or left),
  /// `outcome` (`committed`, `already`, `resolved`, `skipped` at its
  /// bound, or `failed`), the group's instances `from` and `to`.
  static func change(_ end: NemesisStepEnd) -> [String: HistoryValue] {
    guard let c = end.change else { return ["outcome": .string("failed")] }
    var v: [String: HistoryValue] = ["from": .int(Int64(c.from)), "to": .int(Int64(c.to))]
    v["outcome"] = .string(c.skipped == nil ? (c.outcome?.rawValue ?? "committed") : "skipped")
    if let i = c.instance { v["instance"] = .string(i) }
    return v
  }

  /// What the manifest gave the fault, as the value's keys.
  static func parameters(_ action: NemesisFault.Action) -> [String: HistoryValue] {
    switch action {
    case .partition(let shape): return ["shape": .string(shape.rawValue)]
    case .isolate, .pause, .stop: return [:]
    case .loss(let p), .duplicate(let p): return ["percent": .double(p)]
    case .rate(let bits): return ["bitsPerSecond": .int(bits)]
    case .delay(let ms, let jitter, let distribution, let reorder):
      var v: [String: HistoryValue] = ["ms": .double(ms)]
      if let jitter { v["jitterMs"] = .double(jitter) }
      if let distribution { v["distribution"] = .string(distribution) }
      if let reorder { v["reorderPercent"] = .double(reorder) }
      return v
    case .kill(let signal): return ["signal": .string(signal)]
    case .crash(let torn): return ["torn": .bool(torn)]
    case .clock(let seconds): return ["skewSeconds": .double(seconds)]
    case .disk(let r):
      var v: [String: HistoryValue] = ["percent": .double(r.percent)]
      if let e = r.errno { v["errno"] = .string(e.name) }
      if let d = r.delay { v["ms"] = .double(d.milliseconds) }
      if let ops = r.ops { v["ops"] = .string(ops.map(\.rawValue).joined(separator: ",")) }
      if let path = r.path { v["path"] = .string(path) }
      return v
    case .grow(let group, let max): return ["group": .string(group), "max": .int(Int64(max))]
    case .shrink(let group, let min): return ["group": .string(group), "min": .int(Int64(min))]
    }
  }
}

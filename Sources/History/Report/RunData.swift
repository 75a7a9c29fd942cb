import Foundation

/// What `report.html` shows of a run, read from its folder: `results.json`
/// (the verdict, counts, latency quantiles, faults, checker, properties)
/// and `history.jsonl` (every operation, with its times).
///
/// results.json is read as plain JSON, key by key, so that a report can be
/// made of a run whose results carry keys added since (or lack optional ones).
public struct RunData: Sendable {
  /// One operation: its invoke and how it ended, in seconds from the first invoke.
  public struct Operation: Sendable, Hashable {
    public var process: Int
    public var f: String
    /// `ok`, `fail` or `info` (an operation with no completion is `info`, ending with the run).
    public var type: HistoryEvent.Kind
    public var start: Double
    public var end: Double
    public var latencyMs: Double { (end - start) * 1000 }
  }

  /// A fault period, in seconds from the run's start.
  public struct FaultPeriod: Sendable, Hashable {
    public var name: String
    public var start: Double
    public var end: Double
  }

  /// `valid`, `invalid` or `unknown`.
  public var verdict: String
  public var workload: String
  public var model: String
  public var seed: String
  public var startedAt: String
  public var endedAt: String
  public var interrupted: Bool
  /// The whole results.json, for the tables and the checker's explanation.
  public var results: HistoryValue
  public var operations: [Operation]
  public var faults: [FaultPeriod]
  /// Seconds from the first invoke to the last event (or the last fault's end).
  public var duration: Double

  /// Reads `<folder>/results.json` and `<folder>/history.jsonl` (which may be absent: no operations).
  public static func load(folder: String) throws -> RunData {
    let path = folder + "/results.json"
    guard let data = FileManager.default.contents(atPath: path) else {
      throw HistoryError(file: path, problems: [.init(line: 0, message: "there is no results.json to make a report of")])
    }
    guard let results = data.withUnsafeBytes({ JSONReader.parse($0.bindMemory(to: UInt8.self)) }), case .object = results else {
      throw HistoryError(file: path, problems: [.init(line: 0, message: "not a JSON object")])
    }
    let historyPath = folder + "/history.jsonl"
    let events = FileManager.default.fileExists(atPath: historyPath) ? try HistoryParser.parse(contentsOf: historyPath) : []
    return RunData(results: results, events: events)
  }

  public init(results: HistoryValue, events: [HistoryEvent]) {
    self.results = results
    switch results["valid"] {
    case .bool(true)?: verdict = "valid"
    case .bool(false)?: verdict = "invalid"
    default: verdict = "unknown"
    }
    workload = results["workload"]?.text ?? "?"
    model = results["model"]?.text ?? "?"
    seed = results["seed"]?.text ?? "?"
    startedAt = results["startedAt"]?.text ?? ""
    endedAt = results["endedAt"]?.text ?? ""
    interrupted = results["interrupted"] == .bool(true)
    faults = (results["faults"]?.arrayValue ?? []).compactMap { f in
      guard let start = f["start"]?.number else { return nil }
      // No end: never healed within the run, in force to its end.
      return FaultPeriod(name: f["name"]?.text ?? "fault", start: start, end: f["end"]?.number ?? .infinity)
    }
    // The history's clock (CLOCK_MONOTONIC, ns) at the run's start, when
    // results.json says it: the faults' times count from there.
    let origin = results["monotonicStartNs"]?.number.map { UInt64(max(0, $0)) }
    operations = Self.pair(events, origin: origin)
    let last = max(operations.map(\.end).max() ?? 0, faults.map { $0.end.isFinite ? $0.end : $0.start }.max() ?? 0, 0.001)
    duration = last
    for i in faults.indices where !faults[i].end.isFinite { faults[i].end = last }
  }

  /// Pairs each invoke with its process's next completion (Jepsen's rule: one
  /// operation in flight per process). Times are seconds from `origin`, else
  /// from the first event.
  static func pair(_ events: [HistoryEvent], origin: UInt64? = nil) -> [Operation] {
    let timed = events.filter { $0.time != nil }
    guard let first = timed.map({ $0.time! }).min() else { return [] }
    let t0 = min(origin ?? first, first)
    let last = timed.map { $0.time! }.max()!
    let seconds = { (t: UInt64) in Double(t - t0) / 1e9 }
    var open: [Int: HistoryEvent] = [:]
    var ops: [Operation] = []
    for e in timed {
      if e.type == .invoke {
        open[e.process] = e
      } else if let i = open.removeValue(forKey: e.process) {
        ops.append(Operation(process: e.process, f: i.f, type: e.type, start: seconds(i.time!), end: seconds(e.time!)))
      }
    }
    for i in open.values {
      ops.append(Operation(process: i.process, f: i.f, type: .info, start: seconds(i.time!), end: seconds(last)))
    }
    return ops.sorted { ($0.start, $0.process) < ($1.start, $1.process) }
  }
}

extension HistoryValue {
  /// The member `key` of an object (nil otherwise).
  subscript(key: String) -> HistoryValue? {
    if case .object(let o) = self { return o[key] }
    return nil
  }

  /// A scalar as text: a string as is, a number or a boolean as JSON writes it.
  var text: String? {
    switch self {
    case .string(let s): return s
    case .int, .double, .bool: return json
    default: return nil
    }
  }

  var number: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  var arrayValue: [HistoryValue]? {
    if case .array(let a) = self { return a }
    return nil
  }
}

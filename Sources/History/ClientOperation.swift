/// One client operation: an invoke and what became of it.
public struct ClientOperation: Sendable, Hashable, Identifiable {
  public enum Outcome: String, Sendable, Hashable {
    /// It took effect inside its interval.
    case ok
    /// It did not take effect.
    case fail
    /// Unknown: it may take effect at any time after its invoke, or never
    /// (an `info` completion, or an invoke the history never completes).
    case unknown
  }

  /// Its place among the history's operations, in invoke order.
  public var id: Int
  public var process: Int
  public var f: String
  public var key: String?
  /// The invoke's value: the argument.
  public var argument: HistoryValue
  /// The completion's value: a read's result; `nil` unless the outcome is ok.
  public var result: HistoryValue?
  public var outcome: Outcome
  /// Positions among the history's events (0-based): the interval runs from
  /// `invoke` to `completion`; `completion` is nil when the outcome is unknown.
  public var invoke: Int
  public var completion: Int?
  /// Lines in the file (1-based): the invoke's and the completion's (an
  /// `info` line too, though where it sits means nothing).
  public var invokeLine: Int
  public var completionLine: Int?
  /// CLOCK_MONOTONIC nanoseconds, when the history records them.
  public var invokeTime: UInt64?
  public var completionTime: UInt64?
}

/// A history's operations, paired from its events and checked for shape: a
/// process has at most one operation outstanding, and a completion answers
/// the invoke before it.
public struct History: Sendable {
  public var events: [HistoryEvent]
  public var operations: [ClientOperation]
  /// The file it came from, for messages.
  public var file: String

  public init(events: [HistoryEvent], file: String = "history") throws(HistoryError) {
    self.events = events
    self.file = file
    var ops: [ClientOperation] = []
    var open: [Int: Int] = [:]  // process → index in ops
    var problems = ProblemList()
    ops.reserveCapacity(events.count / 2)
    for position in events.indices {
      // Read in place: a copy of each event would retain its strings and value.
      let e = (type: events[position].type, process: events[position].process, line: events[position].line, time: events[position].time)
      var f: String { events[position].f }
      var key: String? { events[position].key }
      if e.type == .invoke {
        if let i = open[e.process] {
          problems.add(
            e.line,
            "process \(e.process) invokes \(f) while its \(ops[i].f) from line \(ops[i].invokeLine) is outstanding; a process has one operation at a time (after a crash, give the client a new process number)"
          )
          continue
        }
        open[e.process] = ops.count
        ops.append(
          ClientOperation(
            id: ops.count, process: e.process, f: f, key: key, argument: events[position].value, result: nil, outcome: .unknown,
            invoke: position, completion: nil, invokeLine: e.line, completionLine: nil, invokeTime: e.time, completionTime: nil))
        continue
      }
      guard let i = open.removeValue(forKey: e.process) else {
        problems.add(e.line, "process \(e.process) reports \(e.type.rawValue) for \(f), but has no operation outstanding (no invoke before it)")
        continue
      }
      if ops[i].f != f {
        problems.add(e.line, "process \(e.process) reports \(e.type.rawValue) for \(f), but invoked \(ops[i].f) (line \(ops[i].invokeLine))")
        continue
      }
      if key != nil, ops[i].key != key {
        problems.add(
          e.line,
          "process \(e.process) reports \(e.type.rawValue) for key \(key!), but invoked key \(ops[i].key ?? "(none)") (line \(ops[i].invokeLine))")
        continue
      }
      ops[i].completionLine = e.line
      switch e.type {
      case .ok:
        ops[i].outcome = .ok
        ops[i].result = events[position].value
        ops[i].completion = position
        ops[i].completionTime = e.time
      case .fail:
        ops[i].outcome = .fail
        ops[i].completion = position
        ops[i].completionTime = e.time
      case .info, .invoke:
        ops[i].outcome = .unknown
      }
    }
    try problems.check(file: file)
    operations = ops
  }

  /// Reads and pairs a history file.
  public init(contentsOf path: String) throws(HistoryError) {
    try self.init(events: try HistoryParser.parse(contentsOf: path), file: path)
  }
}

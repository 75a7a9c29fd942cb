import Foundation
import History
import Manifest

/// `check`'s words: the verdict line, and for a violation which operations,
/// of which processes, at which lines and times, cannot be linearized.
struct CheckText {
  var history: History
  var report: CheckReport
  var file: String
  var took: Duration

  /// The verdict line's time: reading the history and deciding, without
  /// the narrowing of a violation that follows (the words give that).
  var verdictLine: String {
    let seconds = (took - report.narrowing).seconds
    let facts = "\(report.model.rawValue), \(report.operations) operations" + (report.partitions > 1 ? " in \(report.partitions) keys" : "")
    let time = String(format: "%.4fs", seconds)
    switch report.verdict {
    case .linearizable: return "\(file): linearizable (\(facts); \(time))"
    case .notLinearizable: return "\(file): not linearizable (\(facts); \(time))"
    case .unknown: return "\(file): unknown: \(report.unknownReason ?? "no verdict") (\(facts); \(time)); give --timeout more time"
    }
  }

  /// The verdict line of a model that is not searched:
  /// `FILE: valid (set-full, 3 attempted, …; 0.0012s, 0.0010s of it reading)`.
  static func verdictLine(_ verdict: Verdict, file: String, took: Duration, reading: Duration) -> String {
    let time = String(format: "%.4fs, %.4fs of it reading", took.seconds, reading.seconds)
    return "\(file): \(verdict.valid.rawValue) (\(verdict.model.rawValue), \(verdict.summary); \(time))"
  }

  func violation() -> String {
    guard let v = report.violation else { return "" }
    let ops = v.witness.map { history.operations[$0] }
    let processes = Set(ops.map(\.process)).sorted().map(String.init)
    var s = ops.count == 1 ? "This operation" : "These \(ops.count) operations"
    if let key = v.key { s += " on key \(HistoryValue.quote(key))" }
    let named = processes.count > 8 ? processes.prefix(6).joined(separator: ", ") + " … (\(processes.count) in all)" : Self.list(processes)
    s += " (\(processes.count == 1 ? "process" : "processes") \(named)) cannot be linearized,"
    s += "\neven if every other operation took effect at any time after its invoke, or never:\n\n"
    var rows = [["process", "operation", "outcome", "lines", "time"]]
    for op in ops.sorted(by: { $0.invoke < $1.invoke }) {
      rows.append(["p\(op.process)", Self.clip(OperationText.describe(op)), OperationText.outcome(op, cut: v.cut), OperationText.lines(op), time(op)])
    }
    s += Self.table(rows, indent: "  ")
    s += "\n"
    if v.minimal {
      s += ops.count == 1 ? "Leaving it out makes the rest linearizable.\n" : "Leaving out any one of them makes the rest linearizable.\n"
    } else {
      s += "(Not narrowed down all the way: the search's limits ran out; these operations still cannot be linearized.)\n"
    }
    let blocked = history.operations[v.blocked]
    let who = "p\(blocked.process)'s \(Self.clip(OperationText.describe(blocked))) (\(OperationText.lines(blocked)))"
    if v.longest.isEmpty {
      s += "No legal order can even start: \(who) cannot take effect first, nor after any of the others, before it completes.\n"
    } else {
      let witness = Set(v.witness)
      let shown = min(v.longest.count, Self.orderSteps)
      let steps = zip(v.longest, v.states).suffix(shown).map { id, state in
        let step = "p\(history.operations[id].process) \(Self.clip(OperationText.describe(history.operations[id]), to: 40))"
        return "  " + (witness.contains(id) ? step : "[" + step + "]") + " → " + Self.clip(state, to: 40)
      }
      let others = v.longest.contains { !witness.contains($0) } ? " (other operations in brackets, the state after each)" : " (the state after each)"
      let earlier = v.longest.count > shown ? ", its last \(shown) of \(v.longest.count) steps" : ""
      s += "The longest legal order found\(others)\(earlier):\n" + steps.joined(separator: "\n") + "\n"
      s += "No order lets \(who) take effect before it completes.\n"
    }
    if let last = history.events.indices.last, v.cut <= last {
      s += "Nothing from line \(history.events[v.cut].line) on is needed to show this.\n"
    }
    s += String(format: "Narrowing the violation down to these took %.4fs after the verdict.\n", report.narrowing.seconds)
    return s
  }

  /// How many steps of the longest legal order the words show (the last ones, nearest the violation).
  static let orderSteps = 12

  /// A value cut to a cell's width: `"4.1,3.1,2.1,…" (1,204 chars)`.
  static func clip(_ text: String, to width: Int = 60) -> String {
    text.count <= width ? text : String(text.prefix(width - 1)) + "… (\(text.count) chars)"
  }

  private func time(_ op: ClientOperation) -> String {
    guard let start = history.events.compactMap(\.time).min(), let t = op.invokeTime else { return "" }
    let from = OperationText.millis(t, since: start)
    guard let end = op.completionTime, op.outcome != .unknown else { return "+" + from + " ms –" }
    return "+\(from) – +\(OperationText.millis(end, since: start)) ms"
  }

  static func list(_ items: [String]) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
  }

  static func table(_ rows: [[String]], indent: String) -> String {
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
    return rows.map { row in
      indent
        + zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n") + "\n"
  }
}

/// Operations in words, for `check`'s text and picture.
enum OperationText {
  /// `write 1`, `read → 1`, `cas 1 → 2`, `get → "ab"`, `append "x"`.
  static func describe(_ op: ClientOperation) -> String {
    switch op.f {
    case "read", "get":
      guard op.outcome == .ok, let r = op.result else { return op.f }
      return "\(op.f) → \(r.json)"
    case "cas":
      if case .array(let p) = op.argument, p.count == 2 { return "cas \(p[0].json) → \(p[1].json)" }
      return "cas \(op.argument.json)"
    default:
      return op.argument == .null ? op.f : "\(op.f) \(op.argument.json)"
    }
  }

  /// A label short enough for a bar: `w 1`, `r 1`, `cas 1→2`, `a "x"`.
  static func short(_ op: ClientOperation) -> String {
    switch op.f {
    case "read", "get": return (op.f == "read" ? "r " : "get ") + (op.outcome == .ok ? op.result?.json ?? "?" : "?")
    case "write": return "w " + op.argument.json
    case "cas":
      if case .array(let p) = op.argument, p.count == 2 { return "cas \(p[0].json)→\(p[1].json)" }
      return "cas"
    case "append": return "a " + op.argument.json
    case "put": return "put " + op.argument.json
    default: return op.f
    }
  }

  static func outcome(_ op: ClientOperation, cut: Int) -> String {
    switch op.outcome {
    case .ok: return (op.completion ?? 0) < cut ? "ok" : "ok (after the cut: unknown)"
    case .fail: return "fail"
    case .unknown: return op.completionLine == nil ? "never completed" : "info (unknown)"
    }
  }

  static func lines(_ op: ClientOperation) -> String {
    guard let end = op.completionLine else { return "line \(op.invokeLine) –" }
    return op.outcome == .unknown ? "line \(op.invokeLine) – (info line \(end))" : "lines \(op.invokeLine)–\(end)"
  }

  static func millis(_ t: UInt64, since start: UInt64) -> String {
    String(format: "%.3f", Double(Int64(bitPattern: t &- start)) / 1e6)
  }
}

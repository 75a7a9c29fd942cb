/// One anomaly found in a transaction history: its Elle name, what happened
/// in words, and the same as data for `--json`.
public struct Anomaly: Sendable {
  public var type: String
  /// Lines of explanation, each short enough to read (long values are cut).
  public var text: [String]
  /// The anomaly as a JSON object (keys sorted when printed).
  public var data: HistoryValue
}

extension Transaction {
  /// How a report names the transaction: `T12 (line 40, process 3)`.
  var name: String { "op \(id) (line \(line), process \(process < 0 ? "-" : String(process)))" }

  /// The micro-ops as EDN, cut to `limit` characters.
  func mopsText(limit: Int = 160) -> String {
    Transaction.cut("[" + mops.map(\.text).joined(separator: " ") + "]", limit)
  }

  static func cut(_ s: String, _ limit: Int) -> String {
    s.count <= limit ? s : String(s.prefix(limit - 1)) + "…"
  }

  var json: HistoryValue {
    var o: [String: HistoryValue] = [
      "op": .int(Int64(id)), "line": .int(Int64(line)),
      "type": .string(outcome == .ok ? "ok" : outcome == .fail ? "fail" : "info"),
      "value": .array(mops.map { .array([.string($0.kind.rawValue), $0.key, $0.value]) }),
    ]
    if process >= 0 { o["process"] = .int(Int64(process)) }
    return .object(o)
  }
}

/// Why one transaction comes before another: the words, and the key and
/// value the step turns on (none for process and real-time steps).
struct Explanation {
  var because: String
  var key: HistoryValue?
  var value: HistoryValue?
}

/// Explains why one transaction comes before another (one edge of a cycle).
protocol PairExplainer {
  /// "T2 observed T1's append of 3 to key 4", with `a`, `b` their names in the cycle.
  func explain(_ a: Transaction, _ b: Transaction, _ rel: Rels, _ aName: String, _ bName: String) -> Explanation
}

extension PairExplainer {
  /// The order edges every model has: process and real time.
  func explainOrder(_ a: Transaction, _ b: Transaction, _ rel: Rels, _ aName: String, _ bName: String) -> Explanation? {
    if rel == .process { return Explanation(because: "process \(a.process) executed \(aName) before \(bName)") }
    if rel == .realtime {
      var gap = " "
      if let t0 = a.completionTime, let t1 = b.time {
        gap = t1 > t0 ? " " + String(Double(t1 - t0) / 1e9).prefix(8) + " seconds " : " just "
      }
      return Explanation(because: "\(aName) completed at line \(a.line),\(gap)before the invocation of \(bName)")
    }
    return nil
  }

  /// A cycle as Elle words it: who is who, then each step, the last a contradiction.
  func anomaly(_ cycle: Cycle, _ txns: [Transaction]) -> Anomaly {
    let names = cycle.vertices.indices.map { "T\($0 + 1)" }
    var text = ["Let:"]
    for (i, v) in cycle.vertices.enumerated() { text.append("  \(names[i]) = \(txns[v].name): \(txns[v].mopsText())") }
    text.append("Then:")
    var steps: [HistoryValue] = []
    for i in cycle.vertices.indices {
      let j = (i + 1) % cycle.vertices.count
      let a = txns[cycle.vertices[i]]
      let b = txns[cycle.vertices[j]]
      let why = explain(a, b, cycle.rels[i], names[i], names[j])
      let last = j == 0
      text.append("  - \(last ? "However, " : "")\(names[i]) < \(names[j]), because \(why.because)\(last ? ": a contradiction!" : ".")")
      let kind = Rels.order.first { $0.0 == cycle.rels[i] }?.1 ?? "?"
      var step: [String: HistoryValue] = ["type": .string(kind), "from": .int(Int64(a.id)), "to": .int(Int64(b.id)), "because": .string(why.because)]
      if let k = why.key { step["key"] = k }
      if let v = why.value { step["value"] = v }
      steps.append(.object(step))
    }
    return Anomaly(
      type: cycle.type, text: text,
      data: .object(["cycle": .array(cycle.vertices.map { txns[$0].json }), "steps": .array(steps)]))
  }
}

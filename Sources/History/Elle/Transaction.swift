/// One micro-operation of a transaction: `[:append k v]`, `[:r k v]`, `[:w k v]`.
public struct MicroOp: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable {
    case append, read = "r", write = "w"
  }
  public var kind: Kind
  public var key: HistoryValue
  public var value: HistoryValue

  /// The micro-op as Elle prints it: `[:append 3 7]`, `[:r 3 [1 2]]`.
  public var text: String { "[:\(kind.rawValue) \(MicroOp.edn(key)) \(MicroOp.edn(value))]" }

  static func edn(_ v: HistoryValue) -> String {
    switch v {
    case .null: return "nil"
    case .array(let a): return "[" + a.map(edn).joined(separator: " ") + "]"
    default: return v.json
    }
  }
}

/// A transaction as the checkers see it: an operation whose value is a list
/// of micro-ops, with what became of it.
public struct Transaction: Sendable {
  public enum Outcome: Sendable, Hashable { case ok, info, fail }
  /// The operation's id in the history (``ClientOperation/id``).
  public var id: Int
  public var process: Int
  public var outcome: Outcome
  /// The completion's micro-ops for ok transactions (reads filled in), the invoke's otherwise.
  public var mops: [MicroOp]
  /// Positions of the invoke and the completion among the history's events.
  public var invoke: Int
  public var completion: Int?
  public var line: Int
  public var time: UInt64?
  public var completionTime: UInt64?

  /// The history's operations as transactions, or a problem for each one whose
  /// value is not a list of `[f k v]` micro-ops with `f` among `kinds`.
  static func all(_ history: History, kinds: Set<MicroOp.Kind>) throws(HistoryError) -> [Transaction] {
    var out: [Transaction] = []
    out.reserveCapacity(history.operations.count)
    var problems = ProblemList()
    let names = kinds.map { ":" + $0.rawValue }.sorted().joined(separator: ", ")
    let allowed = Array(kinds)  // a model's two or three kinds: searched, not hashed, per micro-op
    for op in history.operations {
      let value = op.outcome == .ok ? (op.result ?? .null) : op.argument
      guard case .array(let items) = value else {
        problems.add(
          op.completionLine ?? op.invokeLine,
          "a transaction's value must be a list of micro-ops like [\(names) k v], not \(String(value.json.prefix(60)))")
        continue
      }
      var mops: [MicroOp] = []
      mops.reserveCapacity(items.count)
      for item in items {
        guard case .array(let m) = item, m.count == 3, case .string(let f) = m[0], let kind = MicroOp.Kind(rawValue: f), allowed.contains(kind)
        else {
          problems.add(op.completionLine ?? op.invokeLine, "a micro-op must be [f k v] with f one of \(names), not \(String(item.json.prefix(60)))")
          break
        }
        mops.append(MicroOp(kind: kind, key: m[1], value: m[2]))
      }
      let outcome: Outcome =
        switch op.outcome {
        case .ok: .ok
        case .fail: .fail
        case .unknown: .info
        }
      out.append(
        Transaction(
          id: op.id, process: op.process, outcome: outcome, mops: mops, invoke: op.invoke, completion: op.completion,
          line: op.completionLine ?? op.invokeLine, time: op.invokeTime, completionTime: op.completionTime))
    }
    try problems.check(file: history.file)
    return out
  }
}

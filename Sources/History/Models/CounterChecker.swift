/// Jepsen's `counter` checker: a counter starts at 0 and `add` raises it by
/// its (non-negative) value. Each ok `read` must lie between the sum of the
/// adds acknowledged before the read was invoked and the sum of the adds
/// attempted (not failed) before it completed. Linear in the history.
enum CounterChecker {
  static func check(_ history: History) throws(HistoryError) -> Verdict {
    var shape = HistoryShape(history)
    shape.only(["add", "read"], model: .counter)
    // Events in order: each operation's invoke and completion positions.
    var byPosition = [Int](repeating: -1, count: history.events.count)
    for op in history.operations where op.outcome != .fail {
      byPosition[op.invoke] = op.id
      if let c = op.completion { byPosition[c] = op.id }
    }
    var lower: Int64 = 0
    var upper: Int64 = 0
    var lowerAtInvoke: [Int: Int64] = [:]
    var reads: [(op: ClientOperation, lower: Int64, value: Int64, upper: Int64)] = []
    for (position, id) in byPosition.enumerated() where id >= 0 {
      let op = history.operations[id]
      let invoking = position == op.invoke
      switch (op.f, invoking) {
      case ("add", true):
        guard let n = HistoryShape.integer(op.argument), n >= 0 else {
          shape.add(op, "a counter add takes a non-negative integer, not \(op.argument.json)")
          continue
        }
        upper &+= n
      case ("add", false):
        if let n = HistoryShape.integer(HistoryShape.value(op)), n >= 0 { lower &+= n }
      case ("read", true): lowerAtInvoke[id] = lower
      case ("read", false):
        guard op.outcome == .ok else { continue }
        guard let v = HistoryShape.integer(op.result ?? .null) else {
          shape.add(op, "a counter read returns an integer, not \((op.result ?? .null).json)", completion: true)
          continue
        }
        reads.append((op, lowerAtInvoke[id] ?? 0, v, upper))
      default: continue
      }
    }
    try shape.check()
    let errors = reads.filter { !($0.lower <= $0.value && $0.value <= $0.upper) }
    var lines: [String] = []
    for e in errors.prefix(10) {
      lines.append("p\(e.op.process) read \(e.value) (line \(e.op.completionLine ?? e.op.invokeLine)): outside [\(e.lower), \(e.upper)]")
    }
    if errors.count > 10 { lines.append("… and \(errors.count - 10) more reads out of bounds") }
    func triple(_ r: (op: ClientOperation, lower: Int64, value: Int64, upper: Int64)) -> HistoryValue {
      .object(["lower": .int(r.lower), "value": .int(r.value), "upper": .int(r.upper), "line": .int(Int64(r.op.completionLine ?? 0))])
    }
    return Verdict(
      valid: errors.isEmpty ? .valid : .invalid, model: .counter,
      summary: "\(reads.count) reads, \(errors.count) out of bounds; final bounds [\(lower), \(upper)]", lines: lines,
      fields: [
        "readCount": .int(Int64(reads.count)), "errorCount": .int(Int64(errors.count)), "errors": .array(errors.prefix(100).map(triple)),
        "lower": .int(lower), "upper": .int(upper),
      ])
  }
}

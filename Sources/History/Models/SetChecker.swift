/// Jepsen's `set` checker: `add` of unique elements, then a final `read` of
/// them all (the last ok read). Every acknowledged add must be in it (else
/// lost), and nothing no add attempted (else unexpected); elements whose add
/// had an unknown outcome or failed and that the read shows are recovered.
/// No read at all: unknown. Linear in the history.
enum SetChecker {
  static func check(_ history: History) throws(HistoryError) -> Verdict {
    var shape = HistoryShape(history)
    shape.only(["add", "read"], model: .set)
    var attempts = Set<HistoryValue>()
    var acknowledged = Set<HistoryValue>()
    var final: (op: ClientOperation, elements: [HistoryValue])?
    for op in history.operations where op.f == "add" || op.f == "read" {
      if op.f == "add" {
        attempts.insert(op.argument)
        if op.outcome == .ok { acknowledged.insert(HistoryShape.value(op)) }
        continue
      }
      guard op.outcome == .ok, let c = op.completion else { continue }
      guard case .array(let elements) = op.result ?? .null else {
        shape.add(op, "a set read returns a list of elements, not \((op.result ?? .null).json)", completion: true)
        continue
      }
      if final == nil || c > final!.op.completion! { final = (op, elements) }
    }
    try shape.check()
    guard let final else {
      return Verdict(
        valid: .unknown, model: .set, summary: "the set was never read (no ok read)",
        fields: ["attemptCount": .int(Int64(attempts.count)), "acknowledgedCount": .int(Int64(acknowledged.count))])
    }
    let read = Set(final.elements)
    let ok = read.intersection(attempts)
    let unexpected = read.subtracting(attempts)
    let lost = acknowledged.subtracting(read)
    let recovered = ok.subtracting(acknowledged)
    let valid = lost.isEmpty && unexpected.isEmpty
    let counts: [(String, Int)] = [
      ("attempted", attempts.count), ("acknowledged", acknowledged.count), ("ok", ok.count), ("lost", lost.count),
      ("unexpected", unexpected.count), ("recovered", recovered.count),
    ]
    var lines = ["The final read (line \(final.op.completionLine ?? final.op.invokeLine)) holds \(read.count) elements."]
    if !lost.isEmpty { lines.append("Lost (acknowledged, not read): \(ValueList.text(lost))") }
    if !unexpected.isEmpty { lines.append("Unexpected (read, never added): \(ValueList.text(unexpected))") }
    if !recovered.isEmpty { lines.append("Recovered (add not acknowledged, read): \(ValueList.text(recovered))") }
    return Verdict(
      valid: valid ? .valid : .invalid, model: .set, summary: counts.map { "\($0.1) \($0.0)" }.joined(separator: ", "), lines: lines,
      fields: [
        "attemptCount": .int(Int64(attempts.count)), "acknowledgedCount": .int(Int64(acknowledged.count)), "okCount": .int(Int64(ok.count)),
        "lostCount": .int(Int64(lost.count)), "unexpectedCount": .int(Int64(unexpected.count)),
        "recoveredCount": .int(Int64(recovered.count)), "lost": ValueList.json(lost), "unexpected": ValueList.json(unexpected),
        "recovered": ValueList.json(recovered),
      ])
  }
}

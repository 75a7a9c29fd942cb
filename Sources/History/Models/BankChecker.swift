/// Jepsen's `bank` checker (as elle-cli runs it): `transfer` moves money
/// between accounts, `read` returns every account's balance (an object of
/// account to balance). Every ok read must name only known accounts (those
/// of the first read), hold no `null` balance, sum to the total (`--total`,
/// else the first read's sum), and, unless negative balances are allowed,
/// show none below zero. Linear in the history.
struct BankChecker {
  var total: Int64?
  var negativeBalances: Bool

  enum Problem: String, CaseIterable {
    case unexpectedKey = "unexpected-key"
    case nilBalance = "nil-balance"
    case wrongTotal = "wrong-total"
    case negativeValue = "negative-value"
  }

  func check(_ history: History) throws(HistoryError) -> Verdict {
    var shape = HistoryShape(history)
    shape.only(["read", "transfer"], model: .bank)
    var reads: [(op: ClientOperation, balances: [String: HistoryValue])] = []
    for op in history.operations where op.f == "read" && op.outcome == .ok {
      guard case .object(let balances) = op.result ?? .null else {
        shape.add(op, "a bank read returns an object of accounts to balances, not \((op.result ?? .null).json)", completion: true)
        continue
      }
      reads.append((op, balances))
    }
    try shape.check()
    reads.sort { $0.op.completion! < $1.op.completion! }
    guard let first = reads.first else {
      return Verdict(valid: .valid, model: .bank, summary: "0 reads", fields: ["readCount": .int(0), "errorCount": .int(0)])
    }
    let accounts = Set(first.balances.keys)
    let expected = total ?? first.balances.values.reduce(0) { $0 &+ (HistoryShape.integer($1) ?? 0) }
    var errors: [Problem: [(op: ClientOperation, detail: String)]] = [:]
    for r in reads {
      if let problem = self.problem(r.balances, accounts: accounts, total: expected) {
        errors[problem.0, default: []].append((r.op, problem.1))
      }
    }
    let count = errors.values.reduce(0) { $0 + $1.count }
    var lines: [String] = []
    var fields: [String: HistoryValue] = [
      "readCount": .int(Int64(reads.count)), "errorCount": .int(Int64(count)), "total": .int(expected),
      "accounts": ValueList.json(accounts.map(HistoryValue.string)),
    ]
    var byType: [String: HistoryValue] = [:]
    for p in Problem.allCases {
      guard let list = errors[p], let e = list.first else { continue }
      let line = e.op.completionLine ?? e.op.invokeLine
      lines.append("\(p.rawValue): \(list.count) reads; the first (line \(line), p\(e.op.process)): \(e.detail)")
      byType[p.rawValue] = .object(["count": .int(Int64(list.count)), "firstLine": .int(Int64(line)), "first": .string(e.detail)])
    }
    fields["errors"] = .object(byType)
    let summary = "\(reads.count) reads of \(accounts.count) accounts, total \(expected); \(count) with errors"
    return Verdict(valid: count == 0 ? .valid : .invalid, model: .bank, summary: summary, lines: lines, fields: fields)
  }

  /// What is wrong with one read, in Jepsen's order of precedence.
  func problem(_ balances: [String: HistoryValue], accounts: Set<String>, total: Int64) -> (Problem, String)? {
    let unexpected = balances.keys.filter { !accounts.contains($0) }
    if !unexpected.isEmpty { return (.unexpectedKey, "accounts \(ValueList.text(unexpected.map(HistoryValue.string), limit: 60))") }
    let nils = balances.filter { $0.value == .null }.map(\.key)
    if !nils.isEmpty { return (.nilBalance, "no balance for \(ValueList.text(nils.map(HistoryValue.string), limit: 60))") }
    let values = balances.values.map { HistoryShape.integer($0) ?? 0 }
    let sum = values.reduce(0, &+)
    if sum != total { return (.wrongTotal, "the balances sum to \(sum), not \(total)") }
    if !negativeBalances {
      let negative = balances.filter { (HistoryShape.integer($0.value) ?? 0) < 0 }
      if !negative.isEmpty {
        let text = negative.keys.sorted().prefix(5).map { "\($0): \(negative[$0]!.json)" }.joined(separator: ", ")
        return (.negativeValue, "negative balances \(text)")
      }
    }
    return nil
  }
}

extension TransactionReport {
  /// Anomalies shown per type in the text report; the JSON has them all.
  public static let shownPerType = 8

  /// The verdict in one line: `invalid: list-append, 8 transactions: G1c, G2-item; not serializable`.
  public var verdictLine: String {
    let word = valid == .valid ? "valid" : valid == .invalid ? "invalid" : "unknown"
    var s = "\(word): \(model), \(transactions) transaction\(transactions == 1 ? "" : "s")"
    if !anomalyTypes.isEmpty { s += ": " + anomalyTypes.joined(separator: ", ") }
    if !not.isEmpty { s += "; not " + not.joined(separator: ", ") }
    return s
  }

  /// Every reported anomaly in words, by type, as Elle words them.
  public var text: String {
    var lines: [String] = []
    if !alsoNot.isEmpty { lines.append("Also not: " + alsoNot.joined(separator: ", ") + ".") }
    for type in anomalyTypes {
      let all = anomalies[type] ?? []
      lines.append("")
      lines.append("\(type) (\(all.count)):")
      for (i, a) in all.prefix(Self.shownPerType).enumerated() {
        if i > 0 { lines.append("") }
        lines += a.text.map { "  " + $0 }
      }
      if all.count > Self.shownPerType { lines.append("  … \(all.count - Self.shownPerType) more (--json lists them all)") }
    }
    return lines.map { Transaction.cut($0, 200) }.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
  }

  /// `{"formatVersion": 1, "valid": true|false|"unknown", "model": …, "anomalyTypes": […], "not": […], "alsoNot": […], "anomalies": {…}}`.
  public var json: String {
    let v: HistoryValue = valid == .valid ? .bool(true) : valid == .invalid ? .bool(false) : .string("unknown")
    let o: [String: HistoryValue] = [
      "formatVersion": .int(1), "valid": v, "model": .string(model), "transactions": .int(Int64(transactions)),
      "anomalyTypes": .array(anomalyTypes.map(HistoryValue.string)), "not": .array(not.map(HistoryValue.string)),
      "alsoNot": .array(alsoNot.map(HistoryValue.string)),
      "anomalies": .object(anomalies.mapValues { .array($0.map(\.data)) }),
    ]
    return HistoryValue.object(o).json
  }
}

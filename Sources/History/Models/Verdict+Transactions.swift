extension Verdict {
  /// The verdict of Elle's transaction checkers, its report's JSON fields
  /// (`anomalyTypes`, `not`, `alsoNot`, `anomalies`, `transactions`) as the model's.
  init(transactions report: TransactionReport, model: ModelName) {
    let valid: Validity
    switch report.valid {
    case .valid: valid = .valid
    case .invalid: valid = .invalid
    case .unknown: valid = .unknown
    }
    var fields: [String: HistoryValue] = [:]
    if case .object(let all)? = HistoryValue(json: report.json) {
      fields = all.filter { !["formatVersion", "valid", "model"].contains($0.key) }
    }
    var summary = "\(report.transactions) transactions"
    if !report.anomalyTypes.isEmpty { summary += ": " + report.anomalyTypes.joined(separator: ", ") }
    if !report.not.isEmpty { summary += "; not " + report.not.joined(separator: ", ") }
    self.init(valid: valid, model: model, summary: summary, lines: report.text.split(separator: "\n").map(String.init), fields: fields)
  }
}

extension Verdict {
  /// The verdict of a linearizability search; the report stays whole in
  /// ``Verdict/linearizability`` for the words and the picture.
  init(linearizability report: CheckReport, model: ModelName) {
    let valid: Validity
    switch report.verdict {
    case .linearizable: valid = .valid
    case .notLinearizable: valid = .invalid
    case .unknown: valid = .unknown
    }
    var fields: [String: HistoryValue] = [
      "linearizable": report.verdict == .unknown ? .string("unknown") : .bool(report.verdict == .linearizable),
      "operations": .int(Int64(report.operations)), "partitions": .int(Int64(report.partitions)),
    ]
    if let reason = report.unknownReason { fields["unknownReason"] = .string(reason) }
    if let v = report.violation {
      var w: [String: HistoryValue] = [
        "operations": .array(v.witness.map { .int(Int64($0)) }), "minimal": .bool(v.minimal), "blocked": .int(Int64(v.blocked)),
      ]
      if let key = v.key { w["key"] = .string(key) }
      fields["witness"] = .object(w)
    }
    let summary = "\(report.operations) operations" + (report.partitions > 1 ? " in \(report.partitions) keys" : "")
    self.init(valid: valid, model: model, summary: summary, fields: fields)
    linearizability = report
  }
}

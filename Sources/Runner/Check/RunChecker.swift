import Foundation
import History

/// Checks a run's history by the workload's model name, through the one
/// dispatch point of the History target (``ModelCheck``): the verdict and
/// the checker's own JSON for results.json.
///
/// Models are named by string, so a model added to ``ModelName`` plugs in
/// here by its name; a name no checker knows gives `unknown`, said so,
/// never a guess.
public enum RunChecker {
  public struct Outcome: Sendable {
    public var valid: Validity
    /// `cthulhu check --json`'s object (formatVersion, valid, model,
    /// summary, the model's fields), with `lines` (the explanation) and, for
    /// a linearizability model, `verdict` and the `violation`'s operations.
    public var json: HistoryValue
    /// Why the verdict is unknown.
    public var problem: String?
  }

  /// The models this build checks.
  public static var models: [String] { ModelName.allCases.map(\.rawValue) }

  /// `total`: bank's total (the workload's `total:`); nil, the first read's.
  public static func check(history path: String, model: String, total: Int64? = nil, timeout: Duration = .seconds(300)) -> Outcome {
    let history: History
    do { history = try History(contentsOf: path) } catch {
      return Outcome(valid: .unknown, json: .object(["error": .string("\(error)")]), problem: "the history is malformed: \(error)")
    }
    guard let name = ModelName(rawValue: model) else {
      let why = "no checker for model '\(model)' in this build (it checks \(ModelName.list))"
      return Outcome(valid: .unknown, json: .object(["error": .string(why)]), problem: why)
    }
    let verdict: Verdict
    do {
      verdict = try ModelCheck.check(history: history, model: name, options: CheckOptions(deadline: .now + timeout, total: total))
    } catch {
      return Outcome(valid: .unknown, json: .object(["error": .string("\(error)")]), problem: "\(error)")
    }
    let valid: Validity =
      switch verdict.valid {
      case .valid: .valid
      case .invalid: .invalid
      case .unknown: .unknown
      }
    var json = verdict.fields
    json["formatVersion"] = .int(Int64(Verdict.formatVersion))
    json["valid"] = valid == .unknown ? .string("unknown") : .bool(valid == .valid)
    json["model"] = .string(name.rawValue)
    json["summary"] = .string(verdict.summary)
    if !verdict.lines.isEmpty { json["lines"] = .array(verdict.lines.map(HistoryValue.string)) }
    var problem: String? = valid == .unknown ? verdict.summary : nil
    if let report = verdict.linearizability {
      json["verdict"] = .string(report.verdict.rawValue)
      if let v = report.violation { json["violation"] = violation(v, in: history) }
      problem = report.unknownReason ?? problem
    }
    return Outcome(valid: valid, json: .object(json), problem: problem)
  }

  /// A linearizability violation with its operations written out, as the
  /// report shows them.
  static func violation(_ v: Violation, in history: History) -> HistoryValue {
    let byID = Dictionary(uniqueKeysWithValues: history.operations.map { ($0.id, $0) })
    let describe = { (id: Int) -> HistoryValue in
      guard let op = byID[id] else { return .int(Int64(id)) }
      var o: [String: HistoryValue] = [
        "id": .int(Int64(id)), "process": .int(Int64(op.process)), "f": .string(op.f), "value": op.argument,
        "outcome": .string(op.outcome.rawValue), "line": .int(Int64(op.invokeLine)),
      ]
      if let k = op.key { o["key"] = .string(k) }
      if let r = op.result { o["result"] = r }
      return .object(o)
    }
    return .object([
      "key": v.key.map(HistoryValue.string) ?? .null, "witness": .array(v.witness.map(describe)), "minimal": .bool(v.minimal),
      "blocked": describe(v.blocked), "states": .array(v.states.map(HistoryValue.string)),
    ])
  }
}

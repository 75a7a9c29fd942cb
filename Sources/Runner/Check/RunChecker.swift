import Foundation
import History

/// Checks a run's history by the workload's model name: the verdict and
/// the checker's own JSON for results.json.
///
/// Models are named by string, so a checker added to the History target
/// (set-full, list-append, bank, counter…) plugs in here by its name; a
/// name no checker knows gives `unknown`, said so, never a guess.
public enum RunChecker {
  public struct Outcome: Sendable {
    public var valid: Validity
    public var json: HistoryValue
    /// Why the verdict is unknown.
    public var problem: String?
  }

  /// The models this build checks.
  public static var models: [String] { ModelKind.allCases.map(\.rawValue) }

  public static func check(history path: String, model: String, timeout: Duration = .seconds(300)) -> Outcome {
    let history: History
    do { history = try History(contentsOf: path) } catch {
      return Outcome(valid: .unknown, json: .object(["error": .string("\(error)")]), problem: "the history is malformed: \(error)")
    }
    guard let kind = ModelKind(rawValue: model) else {
      let why = "no checker for model '\(model)' in this build (it checks \(models.joined(separator: ", ")))"
      return Outcome(valid: .unknown, json: .object(["error": .string(why)]), problem: why)
    }
    let report: CheckReport
    do {
      report = try Checker.check(history, model: kind, options: .init(deadline: .now + timeout))
    } catch {
      return Outcome(valid: .unknown, json: .object(["error": .string("\(error)")]), problem: "\(error)")
    }
    var json: [String: HistoryValue] = [
      "verdict": .string(report.verdict.rawValue), "model": .string(report.model.rawValue),
      "operations": .int(Int64(report.operations)), "partitions": .int(Int64(report.partitions)),
    ]
    if let r = report.unknownReason { json["unknownReason"] = .string(r) }
    if let v = report.violation {
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
      json["violation"] = .object([
        "key": v.key.map(HistoryValue.string) ?? .null, "witness": .array(v.witness.map(describe)), "minimal": .bool(v.minimal),
        "blocked": describe(v.blocked), "states": .array(v.states.map(HistoryValue.string)),
      ])
    }
    let valid: Validity =
      switch report.verdict {
      case .linearizable: .valid
      case .notLinearizable: .invalid
      case .unknown: .unknown
      }
    return Outcome(valid: valid, json: .object(json), problem: report.unknownReason)
  }
}

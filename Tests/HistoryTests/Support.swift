import Foundation
import XCTest

@testable import History

/// Histories written inline: one event a line, `process type f value [key]`,
/// e.g. `0 invoke write 1`, `0 ok read null`, `3 info cas [1,2]`, `1 ok get "x" k`.
func history(_ text: String) throws -> History {
  var lines: [String] = []
  for row in text.split(separator: "\n") {
    let t = row.trimmingCharacters(in: .whitespaces)
    if t.isEmpty { continue }
    let parts = t.split(separator: " ", maxSplits: 3).map(String.init)
    var value = parts.count > 3 ? parts[3] : "null"
    var key: String?
    // A trailing bare word after a kv value is its key: `"x" k1`.
    if value.hasPrefix("\""), let close = value.dropFirst().firstIndex(of: "\"") {
      let after = value[value.index(after: close)...].trimmingCharacters(in: .whitespaces)
      if !after.isEmpty { key = after }
      value = String(value[...close])
    } else if let space = value.firstIndex(of: " ") {
      key = String(value[value.index(after: space)...])
      value = String(value[..<space])
    }
    var line = "{\"process\": \(parts[0]), \"type\": \"\(parts[1])\", \"f\": \"\(parts[2])\", \"value\": \(value)"
    if let key { line += ", \"key\": \"\(key)\"" }
    lines.append(line + "}")
  }
  return try History(events: HistoryParser.parse(Data(lines.joined(separator: "\n").utf8)))
}

func verdict(_ text: String, _ model: ModelKind = .casRegister) throws -> CheckReport.Verdict {
  try Checker.check(history(text), model: model).verdict
}

/// An independent judge of a claimed linearization: every operation that
/// took effect appears once, real time is respected, and replaying the
/// order on a plain model gives every ok operation its result.
func replayProblem(_ h: History, _ report: CheckReport) -> String? {
  for part in report.linearizations {
    let ops = part.order.map { h.operations[$0] }
    guard Set(part.order).count == part.order.count else { return "an operation twice in \(part.order)" }
    for op in h.operations where op.outcome == .ok && op.key == part.key && !part.order.contains(op.id) {
      return "ok operation \(op.id) (line \(op.invokeLine)) is missing from the order"
    }
    for (i, a) in ops.enumerated() {
      for b in ops[(i + 1)...] where b.completion != nil && b.outcome == .ok && b.completion! < a.invoke {
        return "operation \(b.id) completed before \(a.id) was invoked, yet comes after it"
      }
    }
    var register = HistoryValue.null
    var kv = ""
    for op in ops {
      switch op.f {
      case "read":
        if op.outcome == .ok, op.result != register { return "read \(op.id) returned \(op.result!.json) but the register holds \(register.json)" }
      case "write": register = op.argument
      case "cas":
        guard case .array(let p) = op.argument else { return "cas \(op.id) without a pair" }
        if register == p[0] {
          register = p[1]
        } else if op.outcome == .ok {
          return "cas \(op.id) expected \(p[0].json), the register holds \(register.json)"
        }
      case "get":
        if op.outcome == .ok, op.result != .string(kv) { return "get \(op.id) returned \(op.result!.json) but the key holds \"\(kv)\"" }
      case "put": kv = op.argument.string!
      case "append": kv += op.argument.string!
      default: return "unknown f \(op.f)"
      }
    }
  }
  return nil
}

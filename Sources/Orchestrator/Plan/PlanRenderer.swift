import Foundation
import Manifest

/// The human view of a plan, like a code-review diff.
public enum PlanRenderer {
  public static func symbol(_ a: Step.Action) -> String {
    switch a {
    case .create, .pull, .join: return "+"
    case .update, .start, .adopt: return "~"
    case .replace: return "-/+"
    case .delete, .leave: return "-"
    }
  }

  public static func text(_ plan: Plan) -> String {
    guard plan.hasChanges else {
      return "No changes. Fixture '\(plan.fixture)' matches \(plan.manifest).\n"
    }
    var out = "cthulhu will make these changes to fixture '\(plan.fixture)' (\(plan.root)):\n\n"
    for s in plan.steps {
      let head = "  \(symbol(s.action).padding(toLength: 3, withPad: " ", startingAt: 0)) \(s.target)  \(action(s))"
      out += head + "\n"
      for r in s.reasons { out += "        # \(r)\n" }
    }
    for d in plan.fileDiffs ?? [] {
      out += "\n\(d.instance) (first of group '\(d.group)'), \(d.path):\n" + d.diff
    }
    let sum = plan.summary
    out += "\nPlan: \(sum.add) to add, \(sum.change) to change, \(sum.destroy) to destroy.\n"
    return out
  }

  /// `update (restart)`: the action, and what an update does to the instance
  /// (`adopt (then start)`: how an adopted container comes up).
  static func action(_ s: Step) -> String {
    switch s.effect {
    case .restart?: s.action.rawValue + " (restart)"
    case .signal(let sig)?: s.action.rawValue + " (signal \(sig))"
    case .none?: s.action.rawValue + " (files only, no restart)"
    case nil where s.members != nil:
      "\(s.action.rawValue) (through \(s.members!.map(\.name).joined(separator: ", ")))"
    case nil: s.action == .adopt && s.resume != nil ? "adopt (then \(s.resume!.rawValue))" : s.action.rawValue
    }
  }

  /// For a pull-request comment: a summary line, a table of steps with
  /// their symbols and reasons, and each changed file's diff in a
  /// collapsible block. Deterministic: the same plan gives the same text.
  public static func markdown(_ plan: Plan, title: String) -> String {
    var out = "### cthulhu plan: `\(title)` (fixture `\(plan.fixture)`)\n\n"
    guard plan.hasChanges else { return out + "No changes to the topology.\n" }
    let sum = plan.summary
    out += "**Plan: \(sum.add) to add, \(sum.change) to change, \(sum.destroy) to destroy.**\n\n"
    out += "| | target | action | why |\n| --- | --- | --- | --- |\n"
    for s in plan.steps {
      let why = s.reasons.map(cell).joined(separator: "<br>")
      out += "| `\(symbol(s.action))` | `\(s.target)` | \(cell(action(s))) | \(why) |\n"
    }
    for d in plan.fileDiffs ?? [] {
      out += "\n<details><summary><code>\(d.instance)</code> (first of group <code>\(d.group)</code>): <code>\(d.path)</code></summary>\n\n"
      out += "```diff\n" + d.diff.replacingOccurrences(of: "```", with: "ʼʼʼ") + "```\n\n</details>\n"
    }
    return out
  }

  /// Text safe inside a table cell.
  static func cell(_ s: String) -> String {
    s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
  }

  public static func json(_ plan: Plan) throws -> String {
    String(decoding: try JSONEncoder.cthulhu.encode(plan), as: UTF8.self) + "\n"
  }
}

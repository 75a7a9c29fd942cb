import Foundation
import Manifest

/// The human view of a plan, like a code-review diff.
public enum PlanRenderer {
  public static func symbol(_ a: Step.Action) -> String {
    switch a {
    case .create: return "+"
    case .update, .start: return "~"
    case .replace: return "-/+"
    case .delete: return "-"
    }
  }

  public static func text(_ plan: Plan) -> String {
    guard plan.hasChanges else {
      return "No changes. Fixture '\(plan.fixture)' matches \(plan.manifest).\n"
    }
    var out = "cthulhu will make these changes to fixture '\(plan.fixture)' (\(plan.root)):\n\n"
    for s in plan.steps {
      var head = "  \(symbol(s.action).padding(toLength: 3, withPad: " ", startingAt: 0)) \(s.target)  \(s.action.rawValue)"
      switch s.effect {
      case .restart?: head += " (restart)"
      case .signal(let sig)?: head += " (signal \(sig))"
      case .none?: head += " (files only, no restart)"
      case nil: break
      }
      out += head + "\n"
      for r in s.reasons { out += "        # \(r)\n" }
    }
    let sum = plan.summary
    out += "\nPlan: \(sum.add) to add, \(sum.change) to change, \(sum.destroy) to destroy.\n"
    return out
  }

  public static func json(_ plan: Plan) throws -> String {
    String(decoding: try JSONEncoder.cthulhu.encode(plan), as: UTF8.self) + "\n"
  }
}

import Foundation
import History

/// `junit.xml`: one test case for the workload's checker verdict and one
/// per property, as CI systems read JUnit (a failure: invalid; an error: a
/// verdict that could not be reached).
enum JUnitReport {
  /// `checker`: the checker's verdict alone (`r.valid` also counts the properties).
  static func xml(_ r: RunResults, checker: Validity, seconds: Double) -> String {
    var cases: [String] = []
    var (failures, errors) = (0, 0)
    let body: String
    switch checker {
    case .valid: body = ""
    case .unknown:
      errors += 1
      body = "<error message=\"\(escape("unknown: " + r.problems.joined(separator: "; ")))\"/>"
    case .invalid:
      failures += 1
      body = "<failure message=\"\(escape("the history is not valid under \(r.model)"))\">\(escape(r.checker.json))</failure>"
    }
    let time = String(format: "%.3f", seconds)
    cases.append("  <testcase classname=\"cthulhu.\(escape(r.workload))\" name=\"\(escape(r.model))\" time=\"\(time)\">\(body)</testcase>")
    for p in r.properties {
      if !p.passed { failures += 1 }
      let failure = p.passed ? "" : "<failure message=\"\(escape(p.reason ?? "failed"))\"/>"
      cases.append(
        "  <testcase classname=\"cthulhu.\(escape(r.workload)).properties\" name=\"\(escape(p.assert + " " + p.id))\">\(failure)</testcase>")
    }
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <testsuites>
      <testsuite name="cthulhu test \(escape(r.workload))" tests="\(cases.count)" failures="\(failures)" errors="\(errors)" time="\(time)">
      \(cases.joined(separator: "\n"))
      </testsuite>
      </testsuites>

      """
  }

  static func escape(_ s: String) -> String { Html.escape(s) }
}

import Foundation

/// `report.html`: one self-contained page of a run for people (no network,
/// no script; inline CSS and SVG), written into the run folder. The verdict
/// first, big; then the operations, latency and throughput on one time
/// axis with the fault periods shaded; the counts and latency quantiles by
/// operation; the checker's explanation; the properties the system stated.
public struct RunReport: Sendable {
  public let run: RunData

  public init(run: RunData) { self.run = run }

  /// Writes `<folder>/report.html` from the folder's results.json and
  /// history.jsonl; returns its path.
  @discardableResult
  public static func write(folder: String) throws -> String {
    let page = RunReport(run: try RunData.load(folder: folder)).html
    let path = folder + "/report.html"
    // Foundation's atomic write: a temporary file renamed over the old page.
    do { try Data(page.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
      throw HistoryError(file: path, problems: [.init(line: 0, message: "cannot write the report: \(error)")])
    }
    return path
  }

  /// The verdict as the page says it.
  var headline: String {
    switch run.verdict {
    case "valid": "VALID"
    case "invalid": "INVALID"
    default: "UNKNOWN"
    }
  }

  public var html: String {
    let e = Html.escape
    let charts = ReportCharts(run: run)
    var s = """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8">
      <title>\(e(run.workload)): \(headline)</title>
      <style>\(Self.css)</style></head><body>
      <header class="verdict \(run.verdict)"><h1 id="verdict">\(headline)</h1>
      <p>workload <b>\(e(run.workload))</b> · model <b>\(e(run.model))</b> · seed \(e(run.seed)) · \(e(run.startedAt)) – \(e(run.endedAt))\(run.interrupted ? " · <b>interrupted</b>" : "")</p>
      <p>\(run.operations.count) operations · \(run.faults.count) fault period\(run.faults.count == 1 ? "" : "s") · \(ReportCharts.n(run.duration))s\(propertySummary)</p></header>

      """
    s += "<section><h2>Operations</h2>\(legend)\(charts.timeline)</section>\n"
    s +=
      "<section><h2>Latency</h2><p class=\"note\">Each operation at its completion (log scale); the lines are the p50, p95 and p99 of the ok operations over time.</p>\(charts.latency)</section>\n"
    s += "<section><h2>Throughput</h2><p class=\"note\">Completions per second.</p>\(charts.throughput)</section>\n"
    s += faultTable + countsTable + checkerSection + propertiesTable
    return s + "</body></html>\n"
  }

  var propertySummary: String {
    let props = run.results["properties"]?.arrayValue ?? []
    guard !props.isEmpty else { return "" }
    let failed = props.filter { $0["passed"] == .bool(false) }.count
    return " · \(props.count) properties, \(failed) failed"
  }

  var legend: String {
    "<p class=\"legend\"><span class=\"key ok\"></span>ok <span class=\"key fail\"></span>fail <span class=\"key info\"></span>info (unknown) <span class=\"key fault\"></span>fault in force</p>"
  }

  var faultTable: String {
    guard !run.faults.isEmpty else { return "<section><h2>Faults</h2><p>None.</p></section>\n" }
    let rows = run.faults.map { "<tr><td>\(Html.escape($0.name))</td><td>\(ReportCharts.n($0.start))s</td><td>\(ReportCharts.n($0.end))s</td></tr>" }
    return "<section><h2>Faults</h2><table><tr><th>Fault</th><th>From</th><th>To</th></tr>\(rows.joined())</table></section>\n"
  }

  var countsTable: String {
    guard case .object(let counts)? = run.results["counts"] else { return "" }
    let latency = run.results["latency"]
    var rows = ""
    for f in counts.keys.sorted() {
      let c = counts[f]!
      let l = latency?[f]
      let cells =
        ["ok", "fail", "info"].map { "<td>\(c[$0]?.text ?? "0")</td>" } + ["p50", "p95", "p99", "max"].map { "<td>\(l?[$0]?.text ?? "")</td>" }
      rows += "<tr><td>\(Html.escape(f))</td>\(cells.joined())</tr>"
    }
    return
      "<section><h2>Operations by function</h2><table><tr><th>f</th><th>ok</th><th>fail</th><th>info</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr>\(rows)</table></section>\n"
  }

  var checkerSection: String {
    guard let checker = run.results["checker"], checker != .null else { return "" }
    var s = "<section><h2>Checker</h2>"
    for key in ["summary", "explanation", "message", "error", "unknownReason"] {
      if let text = checker[key]?.text { s += "<p class=\"explanation\">\(Html.escape(text))</p>" }
    }
    // The model's explanation, a line each (lost elements, wrong totals, cycles…).
    let lines = (checker["lines"]?.arrayValue ?? []).compactMap(\.text)
    if !lines.isEmpty { s += "<pre class=\"explanation\" id=\"explanation\">\(Html.escape(lines.joined(separator: "\n")))</pre>" }
    if let v = checker["violation"] { s += violation(v) }
    return s + "<details><summary>The checker's JSON</summary><pre>\(Html.escape(Self.pretty(checker)))</pre></details></section>\n"
  }

  /// A linearizability violation as `cthulhu check` reports it: the
  /// operations no order of which the model accepts, the last one blocked.
  func violation(_ v: HistoryValue) -> String {
    let key = v["key"]?.text.map { " on key <b>\(Html.escape($0))</b>" } ?? ""
    var s = "<p class=\"explanation\" id=\"violation\">Not linearizable\(key): no order of these operations is one the model accepts;"
    s += " the last cannot follow any of them\(v["minimal"] == .bool(true) ? " (a minimal set)" : "").</p>"
    var rows = ""
    // The blocked operation last, once (the witness may end with it already).
    var witness = v["witness"]?.arrayValue ?? []
    if let blocked = v["blocked"] {
      witness.removeAll { $0["id"] != nil && $0["id"] == blocked["id"] }
      witness.append(blocked)
    }
    for (i, op) in witness.enumerated() {
      let cells = ["id", "process", "f", "value", "outcome", "result", "line"].map {
        "<td>\(Html.escape(op[$0].map { $0.text ?? $0.json } ?? ""))</td>"
      }
      rows += "<tr\(i == witness.count - 1 ? " class=\"failed\"" : "")>\(cells.joined())</tr>"
    }
    s += "<table><tr><th>op</th><th>process</th><th>f</th><th>value</th><th>outcome</th><th>result</th><th>history line</th></tr>\(rows)</table>"
    if let states = v["states"]?.arrayValue, !states.isEmpty {
      s += "<p class=\"note\">States the model could be in: \(Html.escape(states.compactMap(\.text).joined(separator: ", ")))</p>"
    }
    return s
  }

  var propertiesTable: String {
    let props = run.results["properties"]?.arrayValue ?? []
    guard !props.isEmpty else { return "<section><h2>Properties</h2><p>The system stated none.</p></section>\n" }
    var rows = ""
    for p in props {
      let passed = p["passed"] == .bool(true)
      rows +=
        "<tr class=\"\(passed ? "passed" : "failed")\"><td>\(Html.escape(p["id"]?.text ?? "?"))</td><td>\(Html.escape(p["assert"]?.text ?? "?"))</td>"
      rows += "<td>\(passed ? "passed" : "FAILED")</td><td>\(p["hits"]?.text ?? "0")</td><td>\(Html.escape(p["reason"]?.text ?? ""))</td>"
      // The details of the line that decided it, for a failed property (where to look).
      let details = passed ? "" : (p["details"].map { $0 == .null ? "" : $0.json } ?? "")
      rows += "<td>\(Html.escape(details))</td></tr>"
    }
    return
      "<section><h2>Properties</h2><table id=\"properties\"><tr><th>Property</th><th>Kind</th><th>Verdict</th><th>Hits</th><th>Why</th><th>Details</th></tr>\(rows)</table></section>\n"
  }

  /// A JSON value indented, keys sorted.
  static func pretty(_ v: HistoryValue) -> String {
    guard let data = try? JSONEncoder().encode(v), let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
      let out = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed])
    else { return v.json }
    return String(decoding: out, as: UTF8.self)
  }

  static let css = """
    body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:0 16px 40px;color:#222}
    .verdict{margin:16px 0;padding:12px 20px;border-radius:8px;color:#fff}
    .verdict h1{font-size:56px;margin:0;letter-spacing:2px}.verdict p{margin:4px 0}
    .valid{background:#2e7d32}.invalid{background:#c62828}.unknown{background:#ef6c00}
    h2{font-size:18px;margin:24px 0 6px}.note{color:#555;margin:0 0 4px}
    svg.chart{display:block;background:#fafafa;border:1px solid #ddd}
    .fault{fill:#e53935;fill-opacity:.14}.axis{stroke:#888}.grid{stroke:#e4e4e4}.tick{font-size:11px;fill:#555}
    .op{fill:none}.op.ok{stroke:#43a047}.op.fail{stroke:#e53935}.op.info{stroke:#fb8c00}
    .point{fill:none;stroke-width:3;stroke-linecap:round;stroke-opacity:.55}
    .point.ok{stroke:#43a047}.point.fail{stroke:#e53935}.point.info{stroke:#fb8c00}
    .quantile{fill:none;stroke-width:1.8}.p50{stroke:#1e88e5}.p95{stroke:#5e35b1}.p99{stroke:#212121}
    .rate{fill:none;stroke-width:1.8}.rate.ok{stroke:#43a047}.rate.fail{stroke:#e53935}.rate.info{stroke:#fb8c00}
    .legend .key{display:inline-block;width:14px;height:10px;margin:0 4px 0 12px}
    .key.ok{background:#43a047}.key.fail{background:#e53935}.key.info{background:#fb8c00}.key.fault{background:rgba(229,57,53,.25)}
    table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
    tr.failed td{background:#ffebee}tr.passed td:nth-child(3){color:#2e7d32}
    pre{background:#f5f5f5;padding:8px;overflow:auto;max-height:400px}.explanation{font-weight:600}
    """
}

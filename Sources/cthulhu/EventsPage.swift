import Foundation
import History
import Orchestrator

/// `cthulhu events --html`: the fixture's events on one time axis, a row per
/// instance (and one for the fixture as a whole), and the client operations
/// of `history.jsonl` a row per client process, as one self-contained HTML
/// page (an inline SVG, no script, nothing fetched). A step with a duration
/// is a bar, an instant action a dot, a fault a red band on each instance it
/// acts on from its making to its lifting (or to the end, when still in
/// force). Hover anything for its details. Times are CLOCK_MONOTONIC, the
/// clock both logs record, so the rows line up.
struct EventsPage {
  var title: String
  var events: [Event]
  var history: [HistoryEvent] = []

  static let left = 110.0
  static let width = 1000.0
  static let rowHeight = 26.0

  struct Band {
    var id: String
    var label: String
    var rows: [String]
    var start: Double
    var end: Double?
  }

  /// Each fault from the event that put it in force (its `fault` id) to the
  /// first that lifted it (its id in `lifted`: a lift, an expiry, a heal, a
  /// nemesis heal or stop). Read from the events' fields, never their words.
  func bands() -> [Band] {
    var open: [String: Band] = [:]
    var done: [Band] = []
    for e in events where !e.failed {
      for id in e.lifted ?? [] {
        guard var b = open.removeValue(forKey: id) else { continue }
        b.end = e.monotonic
        done.append(b)
      }
      if e.kind == .fault, let id = e.fault {
        open[id] = Band(id: id, label: e.detail ?? "", rows: e.targets, start: e.monotonic)
      }
    }
    return done + open.values.sorted { $0.start < $1.start }
  }

  func html() -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)): events</title>
    <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
    .picture { overflow-x: auto; border: 1px solid #ddd; }
    table { border-collapse: collapse; margin-top: 16px; font-size: 12px; }
    td, th { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; vertical-align: top; }
    .failed { color: #c0392b; }
    </style></head><body>
    <h1>\(escape(title))</h1>
    <p>\(events.count) events\(history.isEmpty ? "" : ", \(history.count) client history lines"). Bars: steps with their duration (red: failed); dots: instant actions; red bands: faults in force; green and grey bars below: client operations (ok, or unknown).</p>
    <div class="picture">
    \(svg())
    </div>
    <table><tr><th>time</th><th>actor</th><th>action</th><th>targets</th><th>outcome</th></tr>
    \(events.map(row).joined(separator: "\n"))
    </table>
    </body></html>

    """
  }

  func row(_ e: Event) -> String {
    let cls = e.failed ? " class=\"failed\"" : ""
    return "<tr\(cls)><td>\(escape(TimeText.clock(e.time)))</td><td>\(escape(e.actor))</td><td>\(escape(e.action))</td>"
      + "<td>\(escape(e.targets.joined(separator: ",")))</td><td>\(escape(e.outcome))</td></tr>"
  }

  func svg() -> String {
    let instances = Set(events.flatMap { $0.instances ?? [] }).sorted()
    let clients = Set(history.map(\.process)).sorted()
    let rows = ["fixture"] + instances + clients.map { "client \($0)" }
    let index = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, Double($0)) })
    let times = events.flatMap { [$0.monotonic - ($0.seconds ?? 0), $0.monotonic] } + history.compactMap { $0.time.map { Double($0) / 1e9 } }
    let t0 = times.min() ?? 0
    let t1 = max((times.max() ?? 1), t0 + 0.001)
    let x = { (t: Double) in Self.left + (t - t0) / (t1 - t0) * Self.width }
    let y = { (row: String) in 30 + (index[row] ?? 0) * Self.rowHeight }
    let height = 30 + Double(rows.count) * Self.rowHeight + 10
    var out =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(Self.left + Self.width + 20))\" height=\(q(height)) font-family=\"system-ui, sans-serif\" font-size=\"11\">\n"
    // Rows and the time axis.
    for r in rows {
      out +=
        "<text x=\"4\" y=\(q(y(r) + 16))>\(escape(r))</text><line x1=\(q(Self.left)) x2=\(q(Self.left + Self.width)) y1=\(q(y(r) + Self.rowHeight)) y2=\(q(y(r) + Self.rowHeight)) stroke=\"#eee\"/>\n"
    }
    let span = t1 - t0
    let step = [0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600].first { span / $0 <= 12 } ?? 7200
    var tick = 0.0
    while tick <= span {
      out +=
        "<line x1=\(q(x(t0 + tick))) x2=\(q(x(t0 + tick))) y1=\"24\" y2=\(q(height - 10)) stroke=\"#f3f3f3\"/><text x=\(q(x(t0 + tick))) y=\"18\" text-anchor=\"middle\" fill=\"#777\">+\(Self.seconds(tick))</text>\n"
      tick += step
    }
    for b in bands() {
      let end = b.end ?? t1
      for r in b.rows where index[r] != nil && r != "fixture" {
        out +=
          "<rect x=\(q(x(b.start))) y=\(q(y(r) + 2)) width=\(q(max(2, x(end) - x(b.start)))) height=\(q(Self.rowHeight - 4)) fill=\"#c0392b\" fill-opacity=\"0.18\" stroke=\"#c0392b\" stroke-opacity=\"0.5\"><title>\(escape("\(b.id): \(b.label) (\(b.end == nil ? "still in force" : "lifted after \(Self.seconds(end - b.start))"))"))</title></rect>\n"
      }
    }
    for e in events {
      let targets = (e.instances ?? []).filter { index[$0] != nil }
      let tip = "<title>\(escape("\(TimeText.clock(e.time)) \(e.actor): \(e.action) \(e.targets.joined(separator: ",")) → \(e.outcome)"))</title>"
      let failed = e.failed
      for r in targets.isEmpty ? ["fixture"] : targets {
        if let s = e.seconds, s > 0 {
          out +=
            "<rect x=\(q(x(e.monotonic - s))) y=\(q(y(r) + 8)) width=\(q(max(2, x(e.monotonic) - x(e.monotonic - s)))) height=\"10\" rx=\"2\" fill=\"\(failed ? "#c0392b" : "#4a78c2")\">\(tip)</rect>\n"
        } else {
          out += "<circle cx=\(q(x(e.monotonic))) cy=\(q(y(r) + 13)) r=\"4\" fill=\"\(failed ? "#c0392b" : "#555")\">\(tip)</circle>\n"
        }
      }
    }
    // Client operations: invoke to completion, in each process's order.
    var invoked: [Int: HistoryEvent] = [:]
    for h in history {
      guard let time = h.time else { continue }
      if h.type == .invoke {
        invoked[h.process] = h
        continue
      }
      guard let start = invoked.removeValue(forKey: h.process), let t = start.time else { continue }
      let r = "client \(h.process)"
      let colour = h.type == .ok ? "#2e7d32" : h.type == .fail ? "#c0392b" : "#999"
      let tip = "\(start.f) \(start.value.json) → \(h.type.rawValue) \(h.value.json)"
      out +=
        "<rect x=\(q(x(Double(t) / 1e9))) y=\(q(y(r) + 8)) width=\(q(max(2, x(Double(time) / 1e9) - x(Double(t) / 1e9)))) height=\"10\" rx=\"2\" fill=\"\(colour)\"><title>\(escape(tip))</title></rect>\n"
    }
    for (p, h) in invoked {
      guard let t = h.time else { continue }
      out +=
        "<rect x=\(q(x(Double(t) / 1e9))) y=\(q(y("client \(p)") + 8)) width=\(q(max(2, x(t1) - x(Double(t) / 1e9)))) height=\"10\" fill=\"#999\" fill-opacity=\"0.5\"><title>\(escape("\(h.f) \(h.value.json): no completion"))</title></rect>\n"
    }
    return out + "</svg>"
  }

  func q(_ v: Double) -> String { "\"\(String(format: "%.1f", v))\"" }

  func escape(_ s: String) -> String { Html.escape(s) }

  static func seconds(_ s: Double) -> String { s < 10 ? String(format: "%.1fs", s) : String(format: "%.0fs", s) }
}

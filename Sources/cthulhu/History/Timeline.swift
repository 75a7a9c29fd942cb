import Foundation
import History

/// A violation drawn as Porcupine draws one: a row per process, a bar per
/// operation from its invoke to its completion, the operations that cannot
/// be linearized in red, the order the search reached numbered, and the
/// operation it could not place crossed. Self-contained SVG (hover a bar for
/// its lines and times), alone or in an HTML page with the words.
struct Timeline {
  var history: History
  var violation: Violation
  var model: ModelKind
  var title: String

  /// Bars at most this many: a longer part is drawn from the first witness operation on.
  static let maxOperations = 300

  /// The part's operations invoked before the cut (what comes later plays no part).
  private var shown: [ClientOperation] {
    var ops = history.operations.filter { ($0.key == violation.key || model != .kv) && $0.invoke < violation.cut }
    if ops.count > Self.maxOperations, let first = violation.witness.map({ history.operations[$0].invoke }).min() {
      ops = ops.filter { ($0.completion ?? Int.max) >= first && $0.invoke <= violation.cut }
      if ops.count > Self.maxOperations {
        let witness = Set(violation.witness)
        let others = Set(ops.filter { !witness.contains($0.id) }.suffix(Self.maxOperations - witness.count).map(\.id))
        ops = ops.filter { witness.contains($0.id) || others.contains($0.id) }
      }
    }
    return ops
  }

  func html(verdict: String, words: String) -> String {
    """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)): not linearizable</title>
    <style>
    body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
    pre { font: 12px/1.45 ui-monospace, monospace; background: #f7f7f7; padding: 12px; overflow-x: auto; }
    .picture { overflow-x: auto; border: 1px solid #ddd; }
    </style></head><body>
    <h1>\(escape(title))</h1>
    <p><b>\(escape(verdict))</b></p>
    <pre>\(escape(words))</pre>
    <div class="picture">
    \(svg())
    </div>
    </body></html>

    """
  }

  func svg() -> String {
    let ops = shown
    let witness = Set(violation.witness)
    let order = Dictionary(uniqueKeysWithValues: violation.longest.enumerated().map { ($1, $0 + 1) })
    // x: the rank of each event position among those drawn.
    var positions = Set<Int>([violation.cut])
    for op in ops {
      positions.insert(op.invoke)
      if let c = op.completion, c < violation.cut { positions.insert(c) }
    }
    let ranks = Dictionary(uniqueKeysWithValues: positions.sorted().enumerated().map { ($1, $0) })
    let step = max(7.0, min(40.0, 1500.0 / Double(max(positions.count, 1))))
    let left = 70.0
    let top = 70.0
    let rowHeight = 34.0
    func x(_ position: Int) -> Double { left + 10 + Double(ranks[position]!) * step }
    let right = x(positions.max()!) + 60
    let processes = Array(Set(ops.map(\.process))).sorted()
    let row = Dictionary(uniqueKeysWithValues: processes.enumerated().map { ($1, $0) })
    let height = top + Double(processes.count) * rowHeight + 120
    var width = right + 20

    var head = """
      <svg xmlns="http://www.w3.org/2000/svg" width="__WIDTH__" height="\(Int(height))" viewBox="0 0 __WIDTH__ \(Int(height))" font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">
      <rect width="100%" height="100%" fill="white"/>
      <text x="12" y="22" font-size="15" font-weight="bold">\(escape(title)): not linearizable (\(model.rawValue)\(violation.key.map { ", key " + escape(HistoryValue.quote($0)) } ?? ""))</text>
      <text x="12" y="42" fill="#555">\(violation.witness.count) operations (red) cannot be linearized together; ✗ marks the one no order could place before it completed; numbers give the longest legal order found.</text>

      """
    var s = ""
    for (i, p) in processes.enumerated() {
      let y = top + Double(i) * rowHeight
      s += "<rect x=\"0\" y=\"\(y)\" width=\"100%\" height=\"\(rowHeight)\" fill=\"\(i % 2 == 0 ? "#fafafa" : "#ffffff")\"/>\n"
      s += "<text x=\"12\" y=\"\(y + 19)\" fill=\"#333\">p\(p)</text>\n"
    }
    let cutX = x(violation.cut) - step / 2
    let bottom = top + Double(processes.count) * rowHeight
    if violation.cut <= (history.events.indices.last ?? 0) {
      s += "<line x1=\"\(r(cutX))\" y1=\"\(top - 6)\" x2=\"\(r(cutX))\" y2=\"\(bottom)\" stroke=\"#888\" stroke-dasharray=\"4 3\"/>\n"
      s +=
        "<text x=\"\(r(cutX - 4))\" y=\"\(top - 9)\" text-anchor=\"end\" fill=\"#666\">line \(history.events[violation.cut].line): nothing from here on is needed</text>\n"
    }
    // Others first, so the witness is drawn on top.
    for op in ops.sorted(by: { (witness.contains($0.id) ? 1 : 0, $0.invoke) < (witness.contains($1.id) ? 1 : 0, $1.invoke) }) {
      let y = top + Double(row[op.process]!) * rowHeight + 10
      let x0 = x(op.invoke) - step * 0.35
      let unknown = op.outcome == .unknown || op.completion == nil
      // Unknown outcomes, and completions after the cut, run off to the right.
      let open = unknown || op.completion! >= violation.cut
      let x1 = open ? right - 10 : x(op.completion!) + step * 0.35
      let w = max(x1 - x0, 4)
      let inWitness = witness.contains(op.id)
      let late = op.invoke >= violation.cut
      let (fill, stroke): (String, String) =
        inWitness ? ("#fde0dc", "#c62828") : op.outcome == .fail ? ("#ffffff", "#b0bec5") : ("#e8edf0", "#90a4ae")
      let dash = open || op.outcome == .fail ? " stroke-dasharray=\"4 2\"" : ""
      let widthOfStroke = op.id == violation.blocked ? 2.5 : inWitness ? 1.5 : 1
      s += "<g opacity=\"\(late ? 0.35 : 1)\"><title>\(escape(tooltip(op)))</title>\n"
      s +=
        "<rect x=\"\(r(x0))\" y=\"\(y)\" width=\"\(r(w))\" height=\"18\" rx=\"3\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(widthOfStroke)\"\(dash)/>\n"
      var label = OperationText.short(op)
      if op.outcome == .fail { label += " (fail)" }
      if open { label += " ?" }
      if label.count > 40 { label = String(label.prefix(39)) + "…" }
      let fits = Double(label.count) * 6.2 + 6 <= w
      if fits {
        let color = inWitness ? "#8e0000" : "#455a64"
        s += "<text x=\"\(r(x0 + w / 2))\" y=\"\(y + 13)\" text-anchor=\"middle\" fill=\"\(color)\">\(escape(label))</text>\n"
      } else if inWitness {
        // Too long for its bar: above it, after the order's number.
        s +=
          "<text x=\"\(r(x0 + 9))\" y=\"\(y - 2)\" fill=\"#8e0000\" font-size=\"10\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">\(escape(label))</text>\n"
        width = max(width, x0 + 9 + Double(label.count) * 6 + 12)
      }
      if let n = order[op.id] {
        s +=
          "<circle cx=\"\(r(x0))\" cy=\"\(y - 3)\" r=\"7\" fill=\"#1565c0\"/><text x=\"\(r(x0))\" y=\"\(y + 0.5)\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\" font-weight=\"bold\">\(n)</text>\n"
      }
      if op.id == violation.blocked {
        s += "<text x=\"\(r(x1 + 3))\" y=\"\(y + 15)\" fill=\"#c62828\" font-size=\"16\" font-weight=\"bold\">✗</text>\n"
      }
      s += "</g>\n"
    }
    // The axis: event lines.
    let every = max(1, Int((60 / step).rounded(.up)))
    for (i, p) in positions.sorted().enumerated() where i % every == 0 && p < history.events.count {
      s += "<line x1=\"\(r(x(p)))\" y1=\"\(bottom)\" x2=\"\(r(x(p)))\" y2=\"\(bottom + 5)\" stroke=\"#999\"/>"
      s += "<text x=\"\(r(x(p)))\" y=\"\(bottom + 17)\" text-anchor=\"middle\" fill=\"#777\" font-size=\"10\">\(history.events[p].line)</text>\n"
    }
    s += "<text x=\"12\" y=\"\(bottom + 17)\" fill=\"#777\" font-size=\"10\">line</text>\n"
    s += legend(y: bottom + 40)
    // The width is known only now; the row stripes were drawn as wide as the timeline.
    head = head.replacingOccurrences(of: "__WIDTH__", with: String(Int(width)))
    return head + s + "</svg>\n"
  }

  private func legend(y: Double) -> String {
    let items: [(String, String, String, String)] = [
      ("#fde0dc", "#c62828", "", "cannot be linearized together"),
      ("#e8edf0", "#90a4ae", "", "other operations (may take effect any time after invoke, or never)"),
      ("#e8edf0", "#90a4ae", "4 2", "outcome unknown, or failed"),
    ]
    var s = ""
    var lx = 12.0
    for (fill, stroke, dash, text) in items {
      s +=
        "<rect x=\"\(lx)\" y=\"\(y)\" width=\"22\" height=\"12\" rx=\"2\" fill=\"\(fill)\" stroke=\"\(stroke)\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>"
      s += "<text x=\"\(lx + 28)\" y=\"\(y + 10)\" fill=\"#444\">\(escape(text))</text>\n"
      lx += 40 + Double(text.count) * 6.1
    }
    s +=
      "<circle cx=\"18\" cy=\"\(y + 30)\" r=\"7\" fill=\"#1565c0\"/><text x=\"18\" y=\"\(y + 33.5)\" text-anchor=\"middle\" fill=\"white\" font-size=\"9\" font-weight=\"bold\">1</text>"
    s += "<text x=\"32\" y=\"\(y + 34)\" fill=\"#444\">the longest legal order found</text>"
    s += "<text x=\"230\" y=\"\(y + 36)\" fill=\"#c62828\" font-size=\"16\" font-weight=\"bold\">✗</text>"
    s += "<text x=\"246\" y=\"\(y + 34)\" fill=\"#444\">no order lets it take effect before it completes</text>\n"
    return s
  }

  private func tooltip(_ op: ClientOperation) -> String {
    var t = "p\(op.process) \(OperationText.describe(op)): \(OperationText.outcome(op, cut: violation.cut)), \(OperationText.lines(op))"
    if let start = history.events.compactMap(\.time).min(), let a = op.invokeTime {
      t += ", +\(OperationText.millis(a, since: start)) ms"
      if let b = op.completionTime { t += " – +\(OperationText.millis(b, since: start)) ms" }
    }
    return t
  }

  private func r(_ v: Double) -> String { String(format: "%.1f", v) }

  private func escape(_ s: String) -> String { Html.escape(s) }
}

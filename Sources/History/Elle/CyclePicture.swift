import Foundation

/// A cycle anomaly drawn as a ring: its transactions as circles on a
/// circle (T1 at the top, the cycle's order clockwise), each step an arrow
/// to the next labelled with its kind (ww, wr, rw, process, realtime) and
/// the key and value it turns on, and a list of who is who below. A cycle
/// is a ring, so no layout engine is needed (Graphviz may be missing where
/// the report is read). Self-contained SVG; hover a circle or an arrow for
/// the words of the report.
public struct CyclePicture: Sendable {
  /// One transaction of the cycle.
  public struct Node: Sendable {
    public var name: String
    public var operation: String
    public var mops: String
  }

  /// One step, from node `i` to node `i + 1` (the last back to the first).
  public struct Edge: Sendable {
    public var kind: String
    public var key: String?
    public var value: String?
    public var because: String

    /// The arrow's label: `wr 3 = 7`, `rw x = [1 2]`, `realtime`.
    public var label: String {
      guard let key else { return kind }
      return "\(kind) \(key)" + (value.map { " = " + $0 } ?? "")
    }
  }

  public var title: String
  public var nodes: [Node]
  public var edges: [Edge]

  /// The anomaly's cycle, when it has one (its data holds `cycle` and `steps`).
  public init?(_ anomaly: Anomaly) {
    guard case .object(let d) = anomaly.data, case .array(let cycle)? = d["cycle"], case .array(let steps)? = d["steps"],
      !cycle.isEmpty, cycle.count == steps.count
    else { return nil }
    title = anomaly.type
    nodes = cycle.enumerated().map { i, t in
      guard case .object(let o) = t else { return Node(name: "T\(i + 1)", operation: "?", mops: "") }
      var op = "op \(o["op"]?.json ?? "?"), line \(o["line"]?.json ?? "?")"
      if let p = o["process"] { op += ", process \(p.json)" }
      let mops = o["value"].map(Self.mopsText) ?? ""
      return Node(name: "T\(i + 1)", operation: op, mops: Transaction.cut(mops, 110))
    }
    edges = steps.map { s in
      guard case .object(let o) = s else { return Edge(kind: "?", because: "") }
      return Edge(
        kind: o["type"]?.string ?? "?", key: o["key"].map { MicroOp.edn($0) }.map { Transaction.cut($0, 24) },
        value: o["value"].map { MicroOp.edn($0) }.map { Transaction.cut($0, 24) }, because: o["because"]?.string ?? "")
    }
  }

  /// A transaction's micro-ops as the report words them: `[[:append 3 7] [:r 4 [1 2]]]`.
  static func mopsText(_ value: HistoryValue) -> String {
    guard case .array(let mops) = value else { return MicroOp.edn(value) }
    let each = mops.map { m -> String in
      guard case .array(let a) = m, a.count == 3, case .string(let f) = a[0] else { return MicroOp.edn(m) }
      return "[:\(f) \(MicroOp.edn(a[1])) \(MicroOp.edn(a[2]))]"
    }
    return "[" + each.joined(separator: " ") + "]"
  }

  static let colors = ["ww": "#1f5fbf", "wr": "#1a8a3a", "rw": "#c0392b", "process": "#666666", "realtime": "#d35400"]

  /// The picture as one `<svg>` element.
  public func svg() -> String {
    let n = nodes.count
    let radius = max(90.0, Double(n) * 34.0)
    let nodeRadius = 24.0
    // Wide enough for the ring and for the longest line of text (about 7 pixels a character).
    let longest = nodes.map { Double($0.name.count + $0.operation.count + $0.mops.count + 5) * 6.8 }.max() ?? 0
    let width = max(2 * radius + 320, 760, longest + 24)
    let cx = width / 2
    let cy = radius + 80
    let listTop = cy + radius + 70
    let height = listTop + Double(n) * 18 + 16
    func point(_ i: Int) -> (x: Double, y: Double) {
      let angle = -Double.pi / 2 + 2 * Double.pi * Double(i) / Double(n)
      return (cx + radius * cos(angle), cy + radius * sin(angle))
    }
    var s = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(r(width))" height="\(r(height))" viewBox="0 0 \(r(width)) \(r(height))" \
      font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">
      <title>\(xml(title)): a cycle of \(n) transactions</title>
      <defs>

      """
    for (kind, color) in Self.colors.sorted(by: { $0.key < $1.key }) {
      s += """
        <marker id="arrow-\(kind)" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">\
        <path d="M 0 0 L 10 5 L 0 10 z" fill="\(color)"/></marker>

        """
    }
    s += """
      </defs>
      <rect width="100%" height="100%" fill="white"/>
      <text x="12" y="22" font-size="15" font-weight="bold">\(xml(title)): a cycle of \(n) transaction\(n == 1 ? "" : "s")</text>
      <text x="12" y="42" fill="#555">Each arrow is a step of the cycle: ww, wr, rw (data: key = value), process or realtime order.</text>

      """
    for (i, e) in edges.enumerated() {
      let a = point(i)
      let b = point((i + 1) % n)
      // Bend each arrow away from the centre (for two transactions, to its own side).
      let (dx, dy) = (b.x - a.x, b.y - a.y)
      let length = max(hypot(dx, dy), 1)
      var (nx, ny) = (dy / length, -dx / length)
      let (mx, my) = ((a.x + b.x) / 2, (a.y + b.y) / 2)
      if n > 2, nx * (mx - cx) + ny * (my - cy) < 0 { (nx, ny) = (-nx, -ny) }
      let bend = n == 1 ? 0 : max(28.0, length * 0.18)
      let (qx, qy) = (mx + nx * bend, my + ny * bend)
      func toward(_ p: (x: Double, y: Double), _ by: Double) -> (x: Double, y: Double) {
        let (ux, uy) = (qx - p.x, qy - p.y)
        let l = max(hypot(ux, uy), 1)
        return (p.x + ux / l * by, p.y + uy / l * by)
      }
      let start = toward(a, nodeRadius)
      let end = toward(b, nodeRadius + 2)
      let color = Self.colors[e.kind] ?? "#000000"
      let dash = e.kind == "rw" ? " stroke-dasharray=\"6 4\"" : ""
      let marker = Self.colors[e.kind] == nil ? "" : " marker-end=\"url(#arrow-\(e.kind))\""
      // The label sits beyond the curve's middle, away from the ring.
      let (lx, ly) = (0.25 * a.x + 0.5 * qx + 0.25 * b.x + nx * 14, 0.25 * a.y + 0.5 * qy + 0.25 * b.y + ny * 14)
      let anchor = abs(nx) < 0.3 ? "middle" : nx > 0 ? "start" : "end"
      s += """
        <g class="edge \(xml(e.kind))"><title>\(xml(nodes[i].name)) → \(xml(nodes[(i + 1) % n].name)): \(xml(e.because))</title>
        <path d="M \(r(start.x)) \(r(start.y)) Q \(r(qx)) \(r(qy)) \(r(end.x)) \(r(end.y))" fill="none" stroke="\(color)" stroke-width="2"\(dash)\(marker)/>
        <text x="\(r(lx))" y="\(r(ly + 4))" text-anchor="\(anchor)" fill="\(color)" font-weight="bold" stroke="white" stroke-width="4" \
        paint-order="stroke">\(xml(e.label))</text></g>

        """
    }
    for (i, node) in nodes.enumerated() {
      let p = point(i)
      s += """
        <g class="txn"><title>\(xml(node.name)) = \(xml(node.operation)): \(xml(node.mops))</title>
        <circle cx="\(r(p.x))" cy="\(r(p.y))" r="\(r(nodeRadius))" fill="#fff8e0" stroke="#333" stroke-width="1.5"/>
        <text x="\(r(p.x))" y="\(r(p.y + 5))" text-anchor="middle" font-size="14" font-weight="bold">\(xml(node.name))</text></g>

        """
    }
    for (i, node) in nodes.enumerated() {
      let y = listTop + Double(i) * 18
      s += """
        <text x="12" y="\(r(y))"><tspan font-weight="bold">\(xml(node.name))</tspan> = \(xml(node.operation)): \
        <tspan font-family="DejaVu Sans Mono, monospace" font-size="11">\(xml(node.mops))</tspan></text>

        """
    }
    return s + "</svg>\n"
  }

  private func r(_ v: Double) -> String { String(format: "%.1f", v) }

  /// Text for XML: escaped, and the control characters XML 1.0 cannot hold replaced.
  private func xml(_ s: String) -> String {
    Html.escape(String(String.UnicodeScalarView(s.unicodeScalars.map { $0.value < 0x20 && $0 != "\t" && $0 != "\n" ? "\u{FFFD}" : $0 })))
  }
}

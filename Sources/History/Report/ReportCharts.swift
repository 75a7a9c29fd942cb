import Foundation

/// The plots of `report.html` as inline SVG, on one time axis: the
/// operations (a lane per process), latency (each operation, and quantiles
/// over time) and throughput, each with the fault periods shaded. Marks of
/// one kind are one `<path>` (an operation is a segment, a point a
/// zero-length segment with a round cap), so a page of 100,000 operations
/// stays light in a browser.
struct ReportCharts {
  let run: RunData
  static let width = 960.0
  static let left = 64.0
  static let right = 16.0
  static let top = 10.0
  static let bottom = 28.0
  static let kinds: [HistoryEvent.Kind] = [.ok, .fail, .info]
  /// Buckets of the quantile and throughput curves across the run.
  static let buckets = 60

  var plotWidth: Double { Self.width - Self.left - Self.right }
  func x(_ t: Double) -> Double { Self.left + t / run.duration * plotWidth }

  /// Numbers in an SVG path: two decimals at most.
  static func n(_ v: Double) -> String {
    var s = String(format: "%.2f", v)
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s == "-0" ? "0" : s
  }

  /// Opens a chart of `height` plot pixels, with the fault bands and the time axis.
  func frame(_ id: String, height: Double, _ body: String, yAxis: String) -> String {
    let h = Self.top + height + Self.bottom
    var s =
      "<svg id=\"\(id)\" class=\"chart\" viewBox=\"0 0 \(Self.n(Self.width)) \(Self.n(h))\" width=\"\(Self.n(Self.width))\" height=\"\(Self.n(h))\">"
    for f in run.faults {
      let x0 = x(f.start)
      let w = max(1, x(f.end) - x0)
      s += "<rect class=\"fault\" x=\"\(Self.n(x0))\" y=\"\(Self.n(Self.top))\" width=\"\(Self.n(w))\" height=\"\(Self.n(height))\">"
      s += "<title>\(Html.escape(f.name)): \(Self.n(f.start))s – \(Self.n(f.end))s</title></rect>"
    }
    s +=
      "<line class=\"axis\" x1=\"\(Self.n(Self.left))\" y1=\"\(Self.n(Self.top + height))\" x2=\"\(Self.n(Self.width - Self.right))\" y2=\"\(Self.n(Self.top + height))\"/>"
    for t in Self.ticks(upTo: run.duration) {
      s += "<text class=\"tick\" x=\"\(Self.n(x(t)))\" y=\"\(Self.n(h - 10))\" text-anchor=\"middle\">\(Self.n(t))s</text>"
    }
    return s + yAxis + body + "</svg>"
  }

  /// Round tick values from 0 to `max`, about six of them.
  static func ticks(upTo max: Double) -> [Double] {
    let raw = max / 6
    let mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? raw
    return stride(from: 0.0, through: max, by: step).map { $0 }
  }

  // MARK: - Operations on a lane per process

  var timeline: String {
    let processes = Array(Set(run.operations.map(\.process))).sorted()
    let lane = processes.isEmpty ? 8 : max(2, min(12, 320 / Double(processes.count)))
    let height = max(lane * Double(processes.count), 24)
    let index = Dictionary(uniqueKeysWithValues: processes.enumerated().map { ($0.element, $0.offset) })
    var body = ""
    for kind in Self.kinds {
      var d = ""
      for op in run.operations where op.type == kind {
        let y = Self.top + (Double(index[op.process]!) + 0.5) * lane
        d += "M\(Self.n(x(op.start))) \(Self.n(y))H\(Self.n(max(x(op.end), x(op.start) + 1)))"
      }
      body += "<path class=\"op \(kind.rawValue)\" stroke-width=\"\(Self.n(max(1, lane - 1)))\" d=\"\(d)\"/>"
    }
    let label =
      "<text class=\"tick\" x=\"\(Self.n(Self.left - 6))\" y=\"\(Self.n(Self.top + 10))\" text-anchor=\"end\">\(processes.count) proc.</text>"
    return frame("operations", height: height, body, yAxis: label)
  }

  // MARK: - Latency

  var latency: String {
    let height = 240.0
    let values = run.operations.map(\.latencyMs).filter { $0 > 0 }
    let low = max(0.01, pow(10, floor(log10(values.min() ?? 1))))
    let high = max(low * 10, pow(10, ceil(log10(values.max() ?? 10))))
    let y = { (ms: Double) in Self.top + height - (log10(max(ms, low)) - log10(low)) / (log10(high) - log10(low)) * height }
    var axis = ""
    var decade = low
    while decade <= high * 1.0001 {
      axis +=
        "<line class=\"grid\" x1=\"\(Self.n(Self.left))\" y1=\"\(Self.n(y(decade)))\" x2=\"\(Self.n(Self.width - Self.right))\" y2=\"\(Self.n(y(decade)))\"/>"
      axis += "<text class=\"tick\" x=\"\(Self.n(Self.left - 6))\" y=\"\(Self.n(y(decade) + 4))\" text-anchor=\"end\">\(Self.msText(decade))</text>"
      decade *= 10
    }
    var body = ""
    for kind in Self.kinds {
      let d = run.operations.filter { $0.type == kind }.map { "M\(Self.n(x($0.end))) \(Self.n(y($0.latencyMs)))h0" }.joined()
      body += "<path class=\"point \(kind.rawValue)\" d=\"\(d)\"/>"
    }
    for (q, name) in [(0.5, "p50"), (0.95, "p95"), (0.99, "p99")] {
      let points = bucketed { ops in Self.quantile(ops.filter { $0.type == .ok }.map(\.latencyMs), q) }
      body += "<path class=\"quantile \(name)\" d=\"\(line(points.map { ($0.0, y($0.1)) }))\"><title>\(name)</title></path>"
    }
    return frame("latency", height: height, body, yAxis: axis)
  }

  static func msText(_ ms: Double) -> String { ms >= 1000 ? "\(n(ms / 1000))s" : "\(n(ms))ms" }

  /// The `q` quantile of `values` (nearest rank), nil when empty.
  static func quantile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let rank = min(sorted.count, max(1, Int((q * Double(sorted.count)).rounded(.up))))
    return sorted[rank - 1]
  }

  /// `value` of the operations that completed in each bucket of the run, at
  /// the bucket's middle; a bucket where it is nil (no operation) is left out.
  func bucketed(_ value: ([RunData.Operation]) -> Double?) -> [(Double, Double)] {
    let width = run.duration / Double(Self.buckets)
    var groups = [[RunData.Operation]](repeating: [], count: Self.buckets)
    for op in run.operations { groups[min(Self.buckets - 1, Int(op.end / width))].append(op) }
    return groups.enumerated().compactMap { i, ops in value(ops).map { (x((Double(i) + 0.5) * width), $0) } }
  }

  /// A polyline through `points` (already in pixels), broken where a bucket
  /// is missing: a quantile is not drawn across a period with no operation.
  func line(_ points: [(Double, Double)]) -> String {
    let step = plotWidth / Double(Self.buckets) * 1.5
    var d = ""
    for (i, p) in points.enumerated() {
      let joined = i > 0 && p.0 - points[i - 1].0 < step
      d += (joined ? "L" : "M") + "\(Self.n(p.0)) \(Self.n(p.1))"
    }
    return d
  }

  // MARK: - Throughput

  var throughput: String {
    let height = 160.0
    let width = run.duration / Double(Self.buckets)
    let series = Self.kinds.map { kind in (kind, bucketed { ops in Double(ops.filter { $0.type == kind }.count) / width }) }
    let top = max(1, series.flatMap { $0.1.map(\.1) }.max() ?? 1) * 1.1
    let y = { (rate: Double) in Self.top + height - rate / top * height }
    var axis = ""
    for v in Self.ticks(upTo: top) {
      axis +=
        "<line class=\"grid\" x1=\"\(Self.n(Self.left))\" y1=\"\(Self.n(y(v)))\" x2=\"\(Self.n(Self.width - Self.right))\" y2=\"\(Self.n(y(v)))\"/>"
      axis += "<text class=\"tick\" x=\"\(Self.n(Self.left - 6))\" y=\"\(Self.n(y(v) + 4))\" text-anchor=\"end\">\(Self.n(v))/s</text>"
    }
    var body = ""
    for (kind, points) in series where !points.isEmpty {
      body += "<path class=\"rate \(kind.rawValue)\" d=\"\(line(points.map { ($0.0, y($0.1)) }))\"/>"
    }
    return frame("throughput", height: height, body, yAxis: axis)
  }
}

/// Text made safe for HTML and XML (element text and quoted attributes):
/// the one escaper of every page and report cthulhu writes.
public enum Html {
  public static func escape(_ s: String) -> String {
    var out = ""
    for c in s {
      switch c {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(c)
      }
    }
    return out
  }
}

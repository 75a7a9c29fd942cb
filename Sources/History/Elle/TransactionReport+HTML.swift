import Foundation

extension TransactionReport {
  /// Pictures drawn per type, as the text report shows anomalies.
  public static let picturesPerType = shownPerType

  /// The reported cycle anomalies as pictures, by type (sorted), at most
  /// ``picturesPerType`` of each, titled `G1c #2`.
  public var cyclePictures: [CyclePicture] {
    var out: [CyclePicture] = []
    for type in anomalyTypes {
      let drawn = (anomalies[type] ?? []).compactMap(CyclePicture.init).prefix(Self.picturesPerType)
      for (i, var p) in drawn.enumerated() {
        p.title = "\(type) #\(i + 1)"
        out.append(p)
      }
    }
    return out
  }

  /// One self-contained page: the verdict, every anomaly in words, and a
  /// picture of each cycle (`cthulhu check` writes it to `HISTORY.html`).
  public func html(title: String) -> String {
    let pictures = cyclePictures
    let figures = pictures.map { p in
      "<h2 id=\"\(Html.escape(p.title.replacingOccurrences(of: " #", with: "-")))\">\(Html.escape(p.title))</h2>\n<div class=\"picture\">\n\(p.svg())</div>\n"
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>\(Html.escape(title)): \(valid == .valid ? "valid" : "anomalies")</title>
      <style>
      body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
      pre { font: 12px/1.45 ui-monospace, monospace; background: #f7f7f7; padding: 12px; overflow-x: auto; }
      .picture { overflow-x: auto; border: 1px solid #ddd; margin-bottom: 24px; }
      </style></head><body>
      <h1>\(Html.escape(title))</h1>
      <p><b>\(Html.escape(verdictLine))</b></p>
      <p>\(pictures.isEmpty ? "No cycle to draw." : "\(pictures.count) cycle\(pictures.count == 1 ? "" : "s") drawn below the words.")</p>
      <pre>\(Html.escape(text))</pre>
      \(figures.joined())</body></html>

      """
  }
}

/// Elements as reports show them: sorted the same way every time, and
/// written short (`0–99, 104, "x"`), within a length.
enum ValueList {
  /// Integers by value first, then everything else by its JSON.
  static func sorted(_ values: some Sequence<HistoryValue>) -> [HistoryValue] {
    values.sorted(by: less)
  }

  static func less(_ a: HistoryValue, _ b: HistoryValue) -> Bool {
    switch (a, b) {
    case (.int(let x), .int(let y)): return x < y
    case (.int, _): return true
    case (_, .int): return false
    default: return a.json < b.json
    }
  }

  /// Sorted values with runs of consecutive integers as `a–b`, cut off with
  /// `… (N more)` past `limit` characters.
  static func text(_ values: some Sequence<HistoryValue>, limit: Int = 90) -> String {
    let all = sorted(values)
    var parts: [(text: String, count: Int)] = []
    var i = 0
    while i < all.count {
      if case .int(let start) = all[i] {
        var j = i
        while j + 1 < all.count, case .int(let n) = all[j + 1], case .int(let m) = all[j], n == m + 1 { j += 1 }
        if case .int(let end) = all[j], j > i { parts.append(("\(start)–\(end)", j - i + 1)) } else { parts.append((String(start), 1)) }
        i = j + 1
      } else {
        parts.append((all[i].json, 1))
        i += 1
      }
    }
    var out = ""
    for (n, p) in parts.enumerated() {
      let next = out.isEmpty ? p.text : out + ", " + p.text
      if next.count > limit {
        let rest = parts[n...].reduce(0) { $0 + $1.count }
        return out + " … (\(rest) more)"
      }
      out = next
    }
    return out
  }

  /// As a JSON array (sorted).
  static func json(_ values: some Sequence<HistoryValue>) -> HistoryValue { .array(sorted(values)) }
}

/// "Did you mean" by edit distance.
enum Suggest {
  static func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored else { return nil }
    // Close by edits, or sharing a four-letter start (`retry` → `retries`).
    if d <= max(2, word.count / 3) { return best }
    if word.count >= 4, let p = candidates.first(where: { $0.hasPrefix(word.prefix(4)) }) { return p }
    return nil
  }

  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var prev = Array(0...b.count)
    for i in 1...max(1, a.count) where !a.isEmpty {
      var cur = [i] + Array(repeating: 0, count: b.count)
      for j in 1...max(1, b.count) where !b.isEmpty {
        cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      prev = cur
    }
    return a.isEmpty ? b.count : prev[b.count]
  }
}

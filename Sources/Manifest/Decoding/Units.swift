/// Durations (`500ms`, `2s`, `1m30s`, `1h`) and sizes (`16m`, `1g`).
public enum Units {
  /// `500ms`, `2s`, `1m`, `1h` and sums such as `1m30s`; nil when malformed.
  public static func duration(_ text: String) -> Duration? {
    var total: Duration = .zero
    var rest = Substring(text)
    guard !rest.isEmpty else { return nil }
    while !rest.isEmpty {
      let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
      guard !digits.isEmpty, let n = Double(digits) else { return nil }
      rest = rest.dropFirst(digits.count)
      let unit = rest.prefix { $0.isLetter }
      rest = rest.dropFirst(unit.count)
      let scale: Double
      switch unit {
      case "ms": scale = 0.001
      case "s": scale = 1
      case "m": scale = 60
      case "h": scale = 3600
      default: return nil
      }
      total += .milliseconds(Int64((n * scale * 1000).rounded()))
    }
    return total
  }

  /// Bytes from `16m`, `1g`, `512k` (powers of 1024) or a plain number; nil when malformed.
  public static func size(_ text: String) -> Int64? {
    let t = text.lowercased()
    let unit = t.last.flatMap { "kmgb".contains($0) ? $0 : nil }
    var number = unit == nil ? Substring(t) : t.dropLast()
    if unit != "b", number.last == "b" { number = number.dropLast() }
    guard let n = Int64(number), n >= 0 else { return nil }
    switch unit {
    case "k": return n << 10
    case "m": return n << 20
    case "g": return n << 30
    default: return n
    }
  }
}

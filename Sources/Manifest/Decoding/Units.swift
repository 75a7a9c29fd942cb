/// Durations (`500ms`, `2s`, `1m30s`, `1h`), sizes (`16m`, `1g`), rates and
/// percentages as manifests and commands write them: one parser each.
public enum Units {
  /// `30`, `30%`, `12.5` → a percentage from 0 to 100; nil for anything else.
  public static func percent(_ text: String) -> Double? {
    guard let p = Double(text.hasSuffix("%") ? String(text.dropLast()) : text), p.isFinite, p >= 0, p <= 100 else { return nil }
    return p
  }

  /// `500ms`, `2s`, `1m`, `1h` and sums such as `1m30s`; nil when malformed.
  public static func duration(_ text: String) -> Duration? {
    var total: Int64 = 0  // milliseconds
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
      // Overflow is malformed, not a trap: `99999999999999999999h` must not crash.
      guard let ms = Int64(exactly: (n * scale * 1000).rounded()),
        case (let sum, let overflow) = total.addingReportingOverflow(ms), !overflow
      else { return nil }
      total = sum
    }
    return .milliseconds(total)
  }

  /// Bytes from `16m`, `1g`, `512k` (powers of 1024) or a plain number; nil when malformed.
  public static func size(_ text: String) -> Int64? {
    let t = text.lowercased()
    let unit = t.last.flatMap { "kmgb".contains($0) ? $0 : nil }
    var number = unit == nil ? Substring(t) : t.dropLast()
    if unit != "b", number.last == "b" { number = number.dropLast() }
    guard let n = Int64(number), n >= 0 else { return nil }
    let shift: Int64
    switch unit {
    case "k": shift = 1 << 10
    case "m": shift = 1 << 20
    case "g": shift = 1 << 30
    default: shift = 1
    }
    // `<<` would drop the high bits silently: `99999999999g` must be refused.
    let (bytes, overflow) = n.multipliedReportingOverflow(by: shift)
    return overflow ? nil : bytes
  }

  /// Bits per second of a rate as tc writes it: `512kbit`, `10mbit`, `1gbit`,
  /// `100bit`, or bytes per second `1mbps`, `64kbps`. Decimal units, as tc
  /// uses them; nil when malformed, below 8 bit/s or absurdly large.
  public static func bitRate(_ text: String) -> Int64? {
    let units: [(String, Double)] = [
      ("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1),
      ("gbps", 8e9), ("mbps", 8e6), ("kbps", 8e3), ("bps", 8),
    ]
    let t = text.lowercased()
    for (unit, factor) in units where t.hasSuffix(unit) {
      guard let n = Double(t.dropLast(unit.count)), n > 0, n.isFinite else { return nil }
      let bits = n * factor
      guard bits >= 8, bits < 1e13 else { return nil }
      return Int64(bits)
    }
    return nil
  }

  /// A duration as people write it: `500ms`, `2s`, `1.5s`, `2m`, `1m30s`.
  public static func text(_ d: Duration) -> String {
    let (sec, atto) = d.components
    let ms = sec * 1000 + atto / 1_000_000_000_000_000
    if ms < 1000 { return ms == 0 ? "0s" : "\(ms)ms" }
    if ms % 1000 != 0 {
      var fraction = String(ms % 1000)
      fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
      while fraction.hasSuffix("0") { fraction.removeLast() }
      return "\(ms / 1000).\(fraction)s"
    }
    let s = ms / 1000
    if s >= 60, s % 60 == 0 { return "\(s / 60)m" }
    if s >= 60 { return "\(s / 60)m\(s % 60)s" }
    return "\(s)s"
  }
}

extension Duration {
  /// Seconds, with the fraction.
  public var seconds: Double {
    let (s, atto) = components
    return Double(s) + Double(atto) / 1e18
  }

  /// Milliseconds, with the fraction.
  public var milliseconds: Double {
    let (s, atto) = components
    return Double(s) * 1000 + Double(atto) / 1e15
  }

  /// Whole milliseconds (rounded down).
  public var wholeMilliseconds: Int64 {
    let (s, atto) = components
    return s * 1000 + atto / 1_000_000_000_000_000
  }

  /// Whole nanoseconds.
  public var nanoseconds: Int64 {
    let (s, atto) = components
    return s * 1_000_000_000 + atto / 1_000_000_000
  }
}

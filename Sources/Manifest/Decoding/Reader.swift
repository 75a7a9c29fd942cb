import Foundation

/// Typed reads of YAML nodes that collect diagnostics instead of stopping at
/// the first problem. A read that fails records why and returns nil.
final class Reader {
  private(set) var diagnostics: [Diagnostic] = []

  func error(_ at: SourceLocation, _ message: String) { diagnostics.append(Diagnostic(at: at, message)) }

  /// A mapping's pairs keyed by string; unknown keys are reported with a suggestion.
  func mapping(_ node: YAMLNode, _ what: String, allowed: [String]) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
    guard case .mapping(let pairs) = node.kind else {
      error(node.location, "\(what) must be a mapping, not \(node.kindName)")
      return nil
    }
    var out: [(String, YAMLNode, YAMLNode)] = []
    for p in pairs {
      guard let k = p.key.scalar else {
        error(p.key.location, "keys in \(what) must be plain names")
        continue
      }
      if !allowed.isEmpty && !allowed.contains(k) {
        var m = "unknown key '\(k)' in \(what)"
        if let s = Suggest.closest(to: k, in: allowed) { m += "; did you mean '\(s)'?" }
        error(p.key.location, m)
        continue
      }
      out.append((k, p.key, p.value))
    }
    return out
  }

  /// Any mapping, string keys, values left to the caller.
  func anyMapping(_ node: YAMLNode, _ what: String) -> [(key: String, keyNode: YAMLNode, value: YAMLNode)]? {
    mapping(node, what, allowed: [])
  }

  /// A string exactly as written (YAML 1.1's `no`, `on`, `0644` stay text).
  func string(_ node: YAMLNode, _ what: String) -> String? {
    guard let s = node.scalar, !node.isNull else {
      error(node.location, "\(what) must be a string, not \(node.kindName)")
      return nil
    }
    return s
  }

  func int(_ node: YAMLNode, _ what: String, range: ClosedRange<Int>) -> Int? {
    guard case .scalar(let s, let plain) = node.kind, plain, let n = Int(s) else {
      error(node.location, "\(what) must be a whole number, not \(node.scalar.map { "'\($0)'" } ?? node.kindName)")
      return nil
    }
    guard range.contains(n) else {
      error(node.location, "\(what) must be between \(range.lowerBound) and \(range.upperBound), not \(n)")
      return nil
    }
    return n
  }

  func double(_ node: YAMLNode, _ what: String) -> Double? {
    guard case .scalar(let s, let plain) = node.kind, plain, let d = Double(s), d.isFinite else {
      error(node.location, "\(what) must be a number, not \(node.scalar.map { "'\($0)'" } ?? node.kindName)")
      return nil
    }
    return d
  }

  /// A list of strings; a single string is taken as a one-element list when `scalarOK`.
  func strings(_ node: YAMLNode, _ what: String) -> [String]? {
    guard case .sequence(let items) = node.kind else {
      error(node.location, "\(what) must be a list of strings, not \(node.kindName)")
      return nil
    }
    var out: [String] = []
    for i in items {
      guard let s = string(i, "each item of \(what)") else { return nil }
      out.append(s)
    }
    return out
  }

  /// A command: a list, or a string run by `/bin/sh -c`.
  func command(_ node: YAMLNode, _ what: String) -> [String]? {
    if case .scalar = node.kind, let s = string(node, what) { return ["/bin/sh", "-c", s] }
    if case .sequence(let items) = node.kind, items.isEmpty {
      error(node.location, "\(what) must not be empty")
      return nil
    }
    return strings(node, what)
  }

  func duration(_ node: YAMLNode, _ what: String) -> Duration? {
    guard let s = node.scalar, let d = Units.duration(s) else {
      error(node.location, "\(what) must be a duration such as 500ms, 2s, 1m30s, not \(node.scalar.map { "'\($0)'" } ?? node.kindName)")
      return nil
    }
    return d
  }

  func size(_ node: YAMLNode, _ what: String) -> Int64? {
    guard let s = node.scalar, let n = Units.size(s), n > 0 else {
      error(node.location, "\(what) must be a size such as 16m, 1g, 512k, not \(node.scalar.map { "'\($0)'" } ?? node.kindName)")
      return nil
    }
    return n
  }

  /// A free value for templates (YAML 1.2 core schema for plain scalars).
  func value(_ node: YAMLNode) -> Value {
    switch node.kind {
    case .scalar(let s, let plain):
      guard plain else { return .string(s) }
      if node.isNull { return .null }
      if s == "true" { return .bool(true) }
      if s == "false" { return .bool(false) }
      if let i = Int(s) { return .int(i) }
      if s.contains("."), let d = Double(s) { return .double(d) }
      return .string(s)
    case .sequence(let items): return .list(items.map(value))
    case .mapping(let pairs):
      var m: [String: Value] = [:]
      var order: [String] = []
      for p in pairs {
        let k = p.key.scalar ?? ""
        m[k] = value(p.value)
        order.append(k)
      }
      return .map(m, order: order)
    }
  }
}

/// Durations (`500ms`, `2s`, `1m30s`, `1h`) and sizes (`16m`, `1g`).
public enum Units {
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

/// "Did you mean" by edit distance.
enum Suggest {
  static func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 }
    guard let (best, d) = scored else { return nil }
    // Close by edits, or sharing a four-letter start (`retry` → `retries`).
    if d <= max(2, word.count / 3) { return best }
    if word.count >= 4, let p = candidates.first(where: { $0.hasPrefix(word.prefix(4)) }) { return p }
    return nil
    return best
  }

  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
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

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

  /// `true` or `false` (YAML 1.2's core schema; `yes`/`no` are strings there).
  func bool(_ node: YAMLNode, _ what: String) -> Bool? {
    guard case .scalar(let s, let plain) = node.kind, plain, s == "true" || s == "false" else {
      error(node.location, "\(what) must be true or false, not \(node.scalar.map { "'\($0)'" } ?? node.kindName)")
      return nil
    }
    return s == "true"
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
    // A health check's budget, start_period + (retries + 1) × (interval + timeout)
    // in nanoseconds, must fit an Int64 even with 10000 retries.
    guard d <= .seconds(24 * 3600) else {
      error(node.location, "\(what) must be at most 24h, not '\(node.scalar ?? "")'")
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

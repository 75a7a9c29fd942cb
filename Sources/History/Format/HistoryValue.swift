import Foundation

/// A JSON value as a history holds it: an operation's argument or result.
///
/// Equality is JSON's: `7` and `7.0` are the same number, so a value read back
/// from a client that prints floats still matches the integer written.
///
/// Not `indirect`: arrays and objects already hold their elements by
/// reference, and an `indirect` case boxes every number of a long read on the
/// heap (it made reading a 100,000-transaction history twice as slow).
public enum HistoryValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([HistoryValue])
  case object([String: HistoryValue])

  public static func == (a: HistoryValue, b: HistoryValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x == y
    case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Int64(exactly: y) == x
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)): return x == y
    default: return false
    }
  }

  public func hash(into h: inout Hasher) {
    switch self {
    case .null: h.combine(0)
    case .bool(let b): h.combine(1); h.combine(b)
    case .int(let i): h.combine(2); h.combine(i)
    case .double(let d):
      // Integral doubles hash as the integer they equal.
      if let i = Int64(exactly: d) { h.combine(2); h.combine(i) } else { h.combine(3); h.combine(d) }
    case .string(let s): h.combine(4); h.combine(s)
    case .array(let a): h.combine(5); h.combine(a)
    case .object(let o): h.combine(6); h.combine(o)
    }
  }

  /// The string, when this is one.
  public var string: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  /// The value as one line of JSON: `null`, `7`, `"x"`, `[1,2]`.
  public var json: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .double(let d):
      if let i = Int64(exactly: d) { return String(i) }
      return d.isFinite ? String(d) : "null"
    case .string(let s): return Self.quote(s)
    case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
    case .object(let o): return "{" + o.keys.sorted().map { Self.quote($0) + ":" + o[$0]!.json }.joined(separator: ",") + "}"
    }
  }

  /// A JSON string literal.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
      default: out.unicodeScalars.append(u)
      }
    }
    return out + "\""
  }

  /// Text given on a command line or printed by a client: JSON when it is
  /// JSON (`7`, `null`, `[1,2]`, `"x"`), the text itself otherwise.
  public static func parsing(_ text: String) -> HistoryValue {
    JSONReader.parse(text) ?? .string(text)
  }

  /// The JSON text's value; nil when the text is not exactly one JSON value.
  public init?(json text: String) {
    guard let v = JSONReader.parse(text) else { return nil }
    self = v
  }
}

extension HistoryValue: Codable {
  public init(from decoder: any Decoder) throws {
    if var a = try? decoder.unkeyedContainer() {
      var items: [HistoryValue] = []
      while !a.isAtEnd { items.append(try a.decode(HistoryValue.self)) }
      self = .array(items)
      return
    }
    if let o = try? decoder.container(keyedBy: AnyKey.self) {
      var items: [String: HistoryValue] = [:]
      for k in o.allKeys { items[k.stringValue] = try o.decode(HistoryValue.self, forKey: k) }
      self = .object(items)
      return
    }
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? c.decode(Int64.self) {
      self = .int(i)
    } else if let d = try? c.decode(Double.self) {
      self = .double(d)
    } else {
      self = .string(try c.decode(String.self))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var c = encoder.singleValueContainer()
      try c.encodeNil()
    case .bool(let b):
      var c = encoder.singleValueContainer()
      try c.encode(b)
    case .int(let i):
      var c = encoder.singleValueContainer()
      try c.encode(i)
    case .double(let d):
      var c = encoder.singleValueContainer()
      try c.encode(d)
    case .string(let s):
      var c = encoder.singleValueContainer()
      try c.encode(s)
    case .array(let a):
      var c = encoder.unkeyedContainer()
      for v in a { try c.encode(v) }
    case .object(let o):
      var c = encoder.container(keyedBy: AnyKey.self)
      for (k, v) in o { try c.encode(v, forKey: AnyKey(k)) }
    }
  }
}

struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ s: String) { stringValue = s }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

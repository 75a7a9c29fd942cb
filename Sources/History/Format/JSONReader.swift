/// Reads one JSON text (RFC 8259) from UTF-8 bytes into a ``HistoryValue``.
///
/// A history is thousands of one-line JSON objects: JSONDecoder costs a
/// decoder, a container and several failed decode attempts per value, and
/// the runtime's first look-ups of the conformances behind them; this reads
/// the bytes once. Anything that is not exactly one JSON value (surrounded
/// by whitespace at most) is nil: a bad number, an unknown escape, invalid
/// UTF-8, a raw control character in a string, trailing text. Nesting is
/// limited to 512 levels, as JSONDecoder limits it.
struct JSONReader {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var i = 0
  static let maxDepth = 512

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> HistoryValue? {
    var reader = JSONReader(bytes)
    reader.skipSpace()
    guard let v = reader.value(depth: 0) else { return nil }
    reader.skipSpace()
    return reader.i == bytes.count ? v : nil
  }

  /// A JSON array's elements, each with the byte offset it starts at
  /// (elle-cli's histories are one array). On a mistake: the offset where
  /// reading stopped.
  static func elements(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<[(value: HistoryValue, offset: Int)], JSONStop> {
    var r = JSONReader(bytes)
    r.skipSpace()
    guard r.i < bytes.count, bytes[r.i] == UInt8(ascii: "[") else { return .failure(JSONStop(offset: r.i, message: "expected '['")) }
    r.i += 1
    var out: [(value: HistoryValue, offset: Int)] = []
    r.skipSpace()
    if r.i < bytes.count, bytes[r.i] == UInt8(ascii: "]") {
      r.i += 1
    } else {
      while true {
        r.skipSpace()
        let at = r.i
        guard let v = r.value(depth: 1) else { return .failure(JSONStop(offset: r.i, message: "not a JSON value")) }
        out.append((v, at))
        r.skipSpace()
        guard r.i < bytes.count else { return .failure(JSONStop(offset: r.i, message: "the array is never closed")) }
        if bytes[r.i] == UInt8(ascii: "]") {
          r.i += 1
          break
        }
        guard bytes[r.i] == UInt8(ascii: ",") else { return .failure(JSONStop(offset: r.i, message: "expected ',' or ']'")) }
        r.i += 1
      }
    }
    r.skipSpace()
    guard r.i == bytes.count else { return .failure(JSONStop(offset: r.i, message: "more text after the closing ']'")) }
    return .success(out)
  }

  struct JSONStop: Error {
    var offset: Int
    var message: String
  }

  static func parse(_ text: String) -> HistoryValue? {
    var text = text
    return text.withUTF8 { parse($0) }
  }

  private mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  private mutating func literal(_ word: StaticString, _ v: HistoryValue) -> HistoryValue? {
    let n = word.utf8CodeUnitCount
    guard bytes.count - i >= n else { return nil }
    for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return nil }
    i += n
    return v
  }

  private mutating func value(depth: Int) -> HistoryValue? {
    guard i < bytes.count, depth < Self.maxDepth else { return nil }
    switch bytes[i] {
    case UInt8(ascii: "{"): return object(depth: depth)
    case UInt8(ascii: "["): return array(depth: depth)
    case UInt8(ascii: "\""): return string().map(HistoryValue.string)
    case UInt8(ascii: "t"): return literal("true", .bool(true))
    case UInt8(ascii: "f"): return literal("false", .bool(false))
    case UInt8(ascii: "n"): return literal("null", .null)
    default: return number()
    }
  }

  private mutating func object(depth: Int) -> HistoryValue? {
    i += 1  // {
    var items: [String: HistoryValue] = [:]
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
      i += 1
      return .object(items)
    }
    while true {
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = string() else { return nil }
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
      i += 1
      skipSpace()
      guard let v = value(depth: depth + 1) else { return nil }
      if items[key] == nil { items[key] = v }  // the first of duplicate keys, as JSONDecoder keeps it
      skipSpace()
      guard i < bytes.count else { return nil }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
      } else if bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(items)
      } else {
        return nil
      }
    }
  }

  private mutating func array(depth: Int) -> HistoryValue? {
    i += 1  // [
    var items: [HistoryValue] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return .array(items)
    }
    while true {
      skipSpace()
      guard let v = value(depth: depth + 1) else { return nil }
      items.append(v)
      skipSpace()
      guard i < bytes.count else { return nil }
      if bytes[i] == UInt8(ascii: ",") {
        i += 1
      } else if bytes[i] == UInt8(ascii: "]") {
        i += 1
        return .array(items)
      } else {
        return nil
      }
    }
  }

  /// A string literal, `i` at its opening quote.
  private mutating func string() -> String? {
    i += 1
    let start = i
    // The common case: no escape. The bytes between the quotes are the string.
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        i += 1
        return s
      }
      if b == UInt8(ascii: "\\") { break }
      if b < 0x20 { return nil }
      i += 1
    }
    guard i < bytes.count else { return nil }
    var out = Array(bytes[start..<i])
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        return String(validating: out, as: UTF8.self)
      }
      if b < 0x20 { return nil }
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i += 1
        continue
      }
      i += 1
      guard i < bytes.count else { return nil }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        guard var code = hex4() else { return nil }
        if (0xD800..<0xDC00).contains(code) {
          // A high surrogate must be followed by an escaped low one.
          guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
          i += 2
          guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
          return nil
        }
        guard let scalar = Unicode.Scalar(code) else { return nil }
        out.append(contentsOf: UTF8.encode(scalar)!)
      default: return nil
      }
    }
    return nil
  }

  private mutating func hex4() -> UInt32? {
    guard bytes.count - i >= 4 else { return nil }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[i]
      let d: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
      default: return nil
      }
      v = v << 4 | UInt32(d)
      i += 1
    }
    return v
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: an integer when it
  /// has neither fraction nor exponent and fits 64 bits, else a double.
  private mutating func number() -> HistoryValue? {
    let start = i
    func digits() -> Int {
      let from = i
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
      return i - from
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
    guard i < bytes.count else { return nil }
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else if digits() == 0 {
      return nil
    }
    var integral = true
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { return nil }
      integral = false
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() > 0 else { return nil }
      integral = false
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    if integral, let n = Int64(text) { return .int(n) }
    guard let d = Double(text), d.isFinite else { return nil }
    return .double(d)
  }
}

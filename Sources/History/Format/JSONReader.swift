/// Reads one JSON text (RFC 8259) from UTF-8 bytes into a ``HistoryValue``.
///
/// A history is thousands of one-line JSON objects: JSONDecoder costs a
/// decoder, a container and several failed decode attempts per value, and
/// the runtime's first look-ups of the conformances behind them; this reads
/// the bytes once. Anything that is not exactly one JSON value (surrounded
/// by whitespace at most) is nil: a bad number, an unknown escape, invalid
/// UTF-8, a raw control character in a string, trailing text. Nesting is
/// limited to 512 levels, as JSONDecoder limits it. Where reading stops,
/// `stop` says why and at which byte (for `file:line:column` errors).
struct JSONReader {
  let bytes: UnsafeBufferPointer<UInt8>
  /// The next byte to read.
  var i = 0
  static let maxDepth = 512
  /// Why the last value could not be read, and the offset of the mistake.
  private(set) var stop: JSONStop?
  /// Where arrays are made: of their exact count, and each array of scalars
  /// once (a reader of many lines keeps one across them: ``EventLineReader``).
  var interner = ArrayInterner()

  init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// Records why reading stopped (at `offset`, else the current byte): always nil.
  mutating func fail(_ message: String, at offset: Int? = nil) -> HistoryValue? {
    stop = JSONStop(offset: offset ?? i, message: message)
    return nil
  }

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

  mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
  }

  private mutating func literal(_ word: StaticString, _ v: HistoryValue) -> HistoryValue? {
    let n = word.utf8CodeUnitCount
    for k in 0..<n where i + k >= bytes.count || bytes[i + k] != word.utf8Start[k] {
      return fail("not a JSON value (true, false, null, a number, a string, [ or {)")
    }
    i += n
    return v
  }

  mutating func value(depth: Int) -> HistoryValue? {
    guard i < bytes.count else { return fail("a value is missing") }
    guard depth < Self.maxDepth else { return fail("values nested more than \(Self.maxDepth) deep") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return object(depth: depth)
    case UInt8(ascii: "["): return array(depth: depth)
    case UInt8(ascii: "\""):
      guard let s = string() else { return nil }
      return .string(s)
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
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return fail("expected a key (a string in double quotes)") }
      guard let key = string() else { return nil }
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return fail("expected ':' after the key") }
      i += 1
      skipSpace()
      guard let v = value(depth: depth + 1) else { return nil }
      if items[key] == nil { items[key] = v }  // the first of duplicate keys, as JSONDecoder keeps it
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ",") || bytes[i] == UInt8(ascii: "}") else {
        return fail("expected ',' or '}' in an object")
      }
      i += 1
      if bytes[i - 1] == UInt8(ascii: "}") { return .object(items) }
    }
  }

  private mutating func array(depth: Int) -> HistoryValue? {
    i += 1  // [
    let base = interner.stack.count
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
      i += 1
      return .array([])
    }
    while true {
      skipSpace()
      guard let v = value(depth: depth + 1) else {
        interner.drop(from: base)
        return nil
      }
      interner.stack.append(v)
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ",") || bytes[i] == UInt8(ascii: "]") else {
        interner.drop(from: base)
        return fail("expected ',' or ']' in an array")
      }
      i += 1
      if bytes[i - 1] == UInt8(ascii: "]") { return .array(interner.finish(from: base)) }
    }
  }

  /// Records why a string could not be read: always nil.
  private mutating func failString(_ message: String, at offset: Int? = nil) -> String? {
    _ = fail(message, at: offset)
    return nil
  }

  /// A string literal, `i` at its opening quote.
  mutating func string() -> String? {
    let quote = i
    i += 1
    let start = i
    // The common case: no escape. The bytes between the quotes are the string.
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        guard let s = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) else {
          return failString("invalid UTF-8 in a string", at: quote)
        }
        i += 1
        return s
      }
      if b == UInt8(ascii: "\\") { break }
      if b < 0x20 { return failString("a control character in a string must be escaped (\\n, \\t, \\u0001)") }
      i += 1
    }
    guard i < bytes.count else { return failString("this string is never closed", at: quote) }
    var out = Array(bytes[start..<i])
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        guard let s = String(validating: out, as: UTF8.self) else { return failString("invalid UTF-8 in a string", at: quote) }
        return s
      }
      if b < 0x20 { return failString("a control character in a string must be escaped (\\n, \\t, \\u0001)") }
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i += 1
        continue
      }
      let escape = i
      i += 1
      guard i < bytes.count else { break }
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
        guard var code = hex4() else { return failString("\\u needs four hex digits", at: escape) }
        if (0xD800..<0xDC00).contains(code) {
          // A high surrogate must be followed by an escaped low one.
          guard bytes.count - i >= 6, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
            return failString("a high surrogate \\u\(String(code, radix: 16)) must be followed by a low one (\\udc00–\\udfff)", at: escape)
          }
          i += 2
          guard let low = hex4(), (0xDC00..<0xE000).contains(low) else {
            return failString("a high surrogate \\u\(String(code, radix: 16)) must be followed by a low one (\\udc00–\\udfff)", at: escape)
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
          return failString("a lone low surrogate \\u\(String(code, radix: 16))", at: escape)
        }
        guard let scalar = Unicode.Scalar(code) else { return failString("not a Unicode scalar", at: escape) }
        out.append(contentsOf: UTF8.encode(scalar)!)
      default: return failString("unknown escape '\\\(Unicode.Scalar(e))' in a string", at: escape)
      }
    }
    return failString("this string is never closed", at: quote)
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
  /// has neither fraction nor exponent and fits 64 bits, else a double. The
  /// integer is summed as the digits go by (most numbers of a history are).
  private mutating func number() -> HistoryValue? {
    let start = i
    let notNumber = "not a JSON value (true, false, null, a number, a string, [ or {)"
    var negative = false
    if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
      negative = true
      i += 1
    }
    guard i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") else { return fail(notNumber, at: start) }
    // The magnitude, while it fits: up to 2^63 (Int64.min's).
    var magnitude: UInt64 = 0
    var fits = true
    if bytes[i] == UInt8(ascii: "0") {
      i += 1
    } else {
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
        if o1 || o2 { fits = false }
        magnitude = s
        i += 1
      }
    }
    func digits() -> Int {
      let from = i
      while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
      return i - from
    }
    var integral = true
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      i += 1
      guard digits() > 0 else { return fail("a number's '.' must be followed by digits", at: start) }
      integral = false
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      guard digits() > 0 else { return fail("a number's exponent needs digits", at: start) }
      integral = false
    }
    if integral, fits {
      if !negative, magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
      if negative, magnitude <= UInt64(Int64.max) + 1 { return .int(Int64(truncatingIfNeeded: 0 &- magnitude)) }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
    guard let d = Double(text), d.isFinite else { return fail("the number \(text) is out of range", at: start) }
    return .double(d)
  }
}

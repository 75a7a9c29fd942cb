/// Reads EDN (extensible data notation, Clojure's data syntax, the format of
/// Jepsen's `history.edn`) from UTF-8 bytes into ``HistoryValue``s.
///
/// EDN has more kinds of values than a history needs to keep apart; they map
/// onto JSON's as elle-cli's JSON writes them, so a history reads the same in
/// either format:
/// - keywords and symbols become strings without the colon (`:append` →
///   `"append"`, `:jepsen/x` → `"jepsen/x"`), characters become one-letter
///   strings (`\a`, `\newline`);
/// - vectors, lists and sets become arrays (a set in the order written);
/// - maps become objects, a key that is not a string or keyword written as
///   its JSON text (`{0 100}` → `{"0": 100}`);
/// - integers that do not fit 64 bits (and `N` big integers that do not),
///   ratios and `M` decimals become doubles;
/// - a tagged value `#inst "…"`, `#jepsen.history.Op{…}` is its value, the
///   tag dropped; `#_ form` discards the form.
///
/// `;` starts a comment to the end of the line; commas are whitespace. A
/// mistake is an ``EDNError`` with the line and column where it was seen.
struct EDNReader {
  private let bytes: UnsafeBufferPointer<UInt8>
  private var i = 0
  private var line = 1
  private var lineStart = 0
  /// Where vectors, lists and sets are made: each of its exact count, each of scalars once (``ArrayInterner``).
  private var interner = ArrayInterner()
  static let maxDepth = 512

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// A top-level form with the line it starts on.
  struct Form {
    var value: HistoryValue
    var line: Int
  }

  /// Every form in the text. When `unwrap` is set and the text is one vector
  /// or list, its elements instead (Jepsen writes histories both ways).
  static func forms(_ bytes: UnsafeBufferPointer<UInt8>, unwrap: Bool = false) throws(EDNError) -> [Form] {
    var r = EDNReader(bytes)
    var out: [Form] = []
    r.skipSpace()
    while r.i < bytes.count {
      if unwrap, out.isEmpty, let close = r.openingSequence() {
        let start = (r.line, r.i - r.lineStart + 1)
        r.i += 1
        while true {
          r.skipSpace()
          guard r.i < bytes.count else {
            throw EDNError(line: start.0, column: start.1, message: "this \(close == "]" ? "vector" : "list") is never closed")
          }
          if r.bytes[r.i] == UInt8(ascii: close) { break }
          let at = r.line
          if let v = try r.form(depth: 1) { out.append(Form(value: v, line: at)) }
        }
        r.i += 1
        r.skipSpace()
        guard r.i >= bytes.count else { throw r.error("more text after the history's closing '\(close)'") }
        return out
      }
      let at = r.line
      if let v = try r.form(depth: 0) { out.append(Form(value: v, line: at)) }
      r.skipSpace()
    }
    return out
  }

  /// The whole text as one value (tests and command-line values).
  static func value(_ text: String) throws(EDNError) -> HistoryValue {
    var text = text
    let all = text.withUTF8 { b in Result { () throws(EDNError) in try forms(b) } }
    switch all {
    case .failure(let e): throw e
    case .success(let all) where all.count == 1: return all[0].value
    case .success(let all): throw EDNError(line: 1, column: 1, message: "expected one value, found \(all.count)")
    }
  }

  /// The closing character when the next form is a vector or list.
  private func openingSequence() -> Unicode.Scalar? {
    switch bytes[i] {
    case UInt8(ascii: "["): return "]"
    case UInt8(ascii: "("): return ")"
    default: return nil
    }
  }

  func error(_ message: String) -> EDNError {
    EDNError(line: line, column: i - lineStart + 1, message: message)
  }

  private mutating func skipSpace() {
    while i < bytes.count {
      switch bytes[i] {
      case 0x0A:
        i += 1
        line += 1
        lineStart = i
      case 0x20, 0x09, 0x0D, 0x0C, UInt8(ascii: ","): i += 1
      case UInt8(ascii: ";"):
        while i < bytes.count, bytes[i] != 0x0A { i += 1 }
      default: return
      }
    }
  }

  /// The next form, or nil when it was discarded (`#_`). `i` is at its first byte.
  private mutating func form(depth: Int) throws(EDNError) -> HistoryValue? {
    guard depth < Self.maxDepth else { throw error("nested more than \(Self.maxDepth) levels deep") }
    let b = bytes[i]
    switch b {
    case UInt8(ascii: "["): return .array(try sequence(until: UInt8(ascii: "]"), what: "vector", depth: depth))
    case UInt8(ascii: "("): return .array(try sequence(until: UInt8(ascii: ")"), what: "list", depth: depth))
    case UInt8(ascii: "{"): return try map(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "\\"): return .string(try character())
    case UInt8(ascii: ":"):
      i += 1
      let name = token()
      guard !name.isEmpty else { throw error("a keyword needs a name after ':'") }
      return .string(name)
    case UInt8(ascii: "#"): return try dispatch(depth: depth)
    case UInt8(ascii: "]"), UInt8(ascii: ")"), UInt8(ascii: "}"):
      throw error("unexpected '\(Character(Unicode.Scalar(b)))' with nothing open")
    default:
      if Self.isDigit(b) || ((b == UInt8(ascii: "-") || b == UInt8(ascii: "+")) && i + 1 < bytes.count && Self.isDigit(bytes[i + 1])) {
        return try number()
      }
      let startColumn = i - lineStart + 1
      let name = token()
      guard !name.isEmpty else {
        throw EDNError(line: line, column: startColumn, message: "unexpected character '\(Character(Unicode.Scalar(b)))'")
      }
      switch name {
      case "nil": return .null
      case "true": return .bool(true)
      case "false": return .bool(false)
      default: return .string(name)  // a symbol
      }
    }
  }

  private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

  /// A symbol's or keyword's characters: up to whitespace or a delimiter.
  private mutating func token() -> String {
    let start = i
    while i < bytes.count {
      switch bytes[i] {
      case 0x20, 0x09, 0x0A, 0x0D, 0x0C, UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\""),
        UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"):
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
      default: i += 1
      }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
  }

  /// The forms up to `close`; `i` is at the opening character, `start` the column of the form (a set's `#`).
  private mutating func sequence(until close: UInt8, what: String, depth: Int, start: Int? = nil) throws(EDNError) -> [HistoryValue] {
    let open = (line, start ?? (i - lineStart + 1), what)
    i += 1
    let base = interner.stack.count  // a mistake ends the whole read: what it left on the stack goes with the reader
    while true {
      skipSpace()
      guard i < bytes.count else { throw unclosed(open) }
      if bytes[i] == close {
        i += 1
        return interner.finish(from: base)
      }
      try mismatched(open, close)
      if let v = try form(depth: depth + 1) { interner.stack.append(v) }
    }
  }

  /// A closing bracket that is not the open form's.
  private func mismatched(_ open: (Int, Int, String), _ close: UInt8) throws(EDNError) {
    let b = bytes[i]
    guard b == UInt8(ascii: "]") || b == UInt8(ascii: ")") || b == UInt8(ascii: "}") else { return }
    let want = Character(Unicode.Scalar(close))
    throw error("found '\(Character(Unicode.Scalar(b)))' where the \(open.2) opened at \(open.0):\(open.1) needs '\(want)'")
  }

  private func unclosed(_ open: (Int, Int, String)) -> EDNError {
    EDNError(line: open.0, column: open.1, message: "this \(open.2) is never closed")
  }

  private mutating func map(depth: Int) throws(EDNError) -> HistoryValue {
    let open = (line, i - lineStart + 1, "map")
    i += 1
    var items: [String: HistoryValue] = [:]
    while true {
      skipSpace()
      guard i < bytes.count else { throw unclosed(open) }
      if bytes[i] == UInt8(ascii: "}") {
        i += 1
        return .object(items)
      }
      try mismatched(open, UInt8(ascii: "}"))
      let keyAt = (line, i - lineStart + 1)
      guard let key = try form(depth: depth + 1) else { continue }
      skipSpace()
      while i < bytes.count, bytes[i] == UInt8(ascii: "#"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "_") {
        _ = try form(depth: depth + 1)
        skipSpace()
      }
      guard i < bytes.count, bytes[i] != UInt8(ascii: "}") else {
        if i >= bytes.count { throw unclosed(open) }
        throw EDNError(line: keyAt.0, column: keyAt.1, message: "map key \(key.json) has no value")
      }
      guard let v = try form(depth: depth + 1) else { continue }
      let name = key.string ?? key.json
      if items[name] == nil { items[name] = v }
    }
  }

  /// `#{…}` a set, `#_` a discarded form, `#tag value` a tagged value.
  private mutating func dispatch(depth: Int) throws(EDNError) -> HistoryValue? {
    let column = i - lineStart + 1
    i += 1
    guard i < bytes.count else { throw error("'#' must be followed by '{', '_' or a tag") }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      return .array(try sequence(until: UInt8(ascii: "}"), what: "set", depth: depth, start: column))
    case UInt8(ascii: "_"):
      i += 1
      skipSpace()
      guard i < bytes.count else { throw error("'#_' must be followed by the form to discard") }
      _ = try form(depth: depth + 1)
      return nil
    default:
      let tag = token()
      guard !tag.isEmpty, !Self.isDigit(tag.utf8.first!) else { throw error("'#' must be followed by '{', '_' or a tag") }
      skipSpace()
      guard i < bytes.count else { throw error("tag #\(tag) has no value") }
      return try form(depth: depth + 1)
    }
  }

  /// A string literal with EDN's escapes (`\" \\ \n \t \r \b \f \uXXXX`).
  private mutating func string() throws(EDNError) -> String {
    let open = (line, i - lineStart + 1)
    i += 1
    var out: [UInt8] = []
    while i < bytes.count {
      let b = bytes[i]
      if b == UInt8(ascii: "\"") {
        i += 1
        guard let s = String(validating: out, as: UTF8.self) else {
          throw EDNError(line: open.0, column: open.1, message: "this string is not valid UTF-8")
        }
        return s
      }
      if b == 0x0A {
        line += 1
        lineStart = i + 1
      }
      guard b == UInt8(ascii: "\\") else {
        out.append(b)
        i += 1
        continue
      }
      i += 1
      guard i < bytes.count else { break }
      let e = bytes[i]
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(e)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        i += 1
        guard let scalar = hex4().flatMap(Unicode.Scalar.init) else { throw error("\\u must be followed by four hex digits") }
        out.append(contentsOf: UTF8.encode(scalar)!)
        continue
      default:
        i -= 1
        throw error("unknown escape '\\\(Character(Unicode.Scalar(e)))' in a string")
      }
      i += 1
    }
    throw EDNError(line: open.0, column: open.1, message: "this string is never closed")
  }

  private mutating func hex4() -> UInt32? {
    guard bytes.count - i >= 4 else { return nil }
    var v: UInt32 = 0
    for k in 0..<4 {
      guard let d = Int(String(Unicode.Scalar(bytes[i + k])), radix: 16) else { return nil }
      v = v << 4 | UInt32(d)
    }
    i += 4
    return v
  }

  /// `\c`, `\newline`, `\space`, `\tab`, `\return`, `\uXXXX`.
  private mutating func character() throws(EDNError) -> String {
    i += 1
    guard i < bytes.count else { throw error("'\\' must be followed by a character") }
    let first = i
    if bytes[i] >= 0x80 || !Self.isTokenByte(bytes[i]) {
      // One character, which may be several bytes.
      var end = i + 1
      while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
      i = end
      return String(decoding: UnsafeBufferPointer(rebasing: bytes[first..<end]), as: UTF8.self)
    }
    i += 1
    let name = String(Unicode.Scalar(bytes[first])) + token()
    switch name {
    case "newline": return "\n"
    case "space": return " "
    case "tab": return "\t"
    case "return": return "\r"
    case "formfeed": return "\u{0C}"
    case "backspace": return "\u{08}"
    case _ where name.count == 1: return name
    case _ where name.hasPrefix("u") && name.count == 5:
      if let code = UInt32(name.dropFirst(), radix: 16), let s = Unicode.Scalar(code) { return String(s) }
      fallthrough
    default:
      i = first
      throw error("unknown character name '\\\(name)'")
    }
  }

  private static func isTokenByte(_ b: UInt8) -> Bool {
    switch b {
    case 0x00...0x20, UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\""), UInt8(ascii: "["), UInt8(ascii: "]"),
      UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "{"), UInt8(ascii: "}"):
      return false
    default: return true
    }
  }

  /// Integers (`-12`, `7N`, `0x1F`), ratios (`1/3`) and floats (`1.5`, `2e3`, `0.1M`).
  private mutating func number() throws(EDNError) -> HistoryValue {
    let startColumn = i - lineStart + 1
    let text = token()
    let bad = EDNError(line: line, column: startColumn, message: "'\(text)' is not a number")
    var body = Substring(text)
    if body.hasSuffix("N") {
      body = body.dropLast()
      if let n = Int64(body) { return .int(n) }
      guard body.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }), let d = Double(body) else { throw bad }
      return .double(d)
    }
    if body.hasSuffix("M") { body = body.dropLast() }
    if let n = Int64(body) { return .int(n) }
    if let slash = body.firstIndex(of: "/") {
      guard let p = Double(body[..<slash]), let q = Double(body[body.index(after: slash)...]), q != 0 else { throw bad }
      return .double(p / q)
    }
    let unsigned = body.drop { $0 == "-" || $0 == "+" }
    if unsigned.hasPrefix("0x") || unsigned.hasPrefix("0X") {
      guard let n = Int64(unsigned.dropFirst(2), radix: 16) else { throw bad }
      return .int(body.hasPrefix("-") ? -n : n)
    }
    guard unsigned.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }),
      let d = Double(body), d.isFinite
    else { throw bad }
    return .double(d)
  }
}

/// A mistake in EDN text, where it was seen.
struct EDNError: Error, Sendable, Equatable {
  var line: Int
  var column: Int
  var message: String
}

/// The elements of a JSON array document (elle-cli's `history.json`: one
/// array of operation objects, one a line or all on one line), each as its
/// bytes and the 1-based line it starts on, so every element is read and
/// reported as a JSON Lines history's line is.
///
/// Only the array's structure is scanned here (brackets, braces, strings and
/// their escapes, commas at depth one); each element is then read by
/// ``JSONReader``, which rejects whatever is not JSON.
enum JSONArrayElements {
  struct Element {
    var range: Range<Int>
    var line: Int
  }

  struct Malformed: Error {
    var line: Int
    var message: String
  }

  /// Whether the document is an array: its first non-blank byte is `[`.
  static func isArray(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    for b in bytes where !isSpace(b) { return b == UInt8(ascii: "[") }
    return false
  }

  static func split(_ bytes: UnsafeBufferPointer<UInt8>) throws(Malformed) -> [Element] {
    var i = 0
    var line = 1
    while i < bytes.count, isSpace(bytes[i]) {
      if bytes[i] == UInt8(ascii: "\n") { line += 1 }
      i += 1
    }
    i += 1  // [
    var elements: [Element] = []
    var depth = 0
    var start: Int?
    var startLine = line
    var inString = false
    var escaped = false
    var closed = false
    while i < bytes.count {
      let b = bytes[i]
      defer { i += 1 }
      if b == UInt8(ascii: "\n") { line += 1 }
      if inString {
        if escaped {
          escaped = false
        } else if b == UInt8(ascii: "\\") {
          escaped = true
        } else if b == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      if closed {
        guard isSpace(b) else { throw Malformed(line: line, message: "text after the history's closing ]") }
        continue
      }
      if start == nil, !isSpace(b), !(depth == 0 && (b == UInt8(ascii: ",") || b == UInt8(ascii: "]"))) {
        start = i
        startLine = line
      }
      switch b {
      case UInt8(ascii: "\""): inString = true
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"): depth -= 1
      case UInt8(ascii: ","), UInt8(ascii: "]"):
        guard depth == 0 else {
          if b == UInt8(ascii: "]") { depth -= 1 }
          break
        }
        if let s = start {
          elements.append(Element(range: s..<i, line: startLine))
          start = nil
        } else if b == UInt8(ascii: ",") {
          throw Malformed(line: line, message: "an empty element in the history's array (two commas, or a comma first)")
        }
        if b == UInt8(ascii: "]") { closed = true }
      default: break
      }
    }
    guard closed else { throw Malformed(line: line, message: "the history's array is not closed (no final ])") }
    return elements
  }

  static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}

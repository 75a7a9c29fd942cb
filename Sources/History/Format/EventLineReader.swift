import Foundation

/// Reads one line of cthulhu's JSON Lines straight into a ``HistoryEvent``.
///
/// A large history is millions of lines: building a `[String: HistoryValue]`
/// per line (its keys hashed, its strings made) cost a third of reading.
/// This walks the object's bytes once, knows the format's keys by their
/// bytes (`process`, `type`, `f`, `key`, `value`, `time`; any other key's
/// value is read and dropped), and makes each `type` and `f` string once
/// (a history names few: later ones are found by their bytes, not validated
/// and made again). A line that is not one JSON
/// object stops at its first mistake, with the byte where it was seen.
struct EventLineReader {
  /// Strings already made, with their JSON text (quotes included): types and `f`s.
  private var strings: [(text: [UInt8], value: HistoryValue)] = []
  /// Arrays already made, kept across lines (a history's reads repeat: ``ArrayInterner``).
  private var interner = ArrayInterner()

  /// The format's keys, in ``HistoryParser/Fields`` order.
  private static let keys: [[UInt8]] = ["process", "type", "f", "key", "value", "time"].map { Array($0.utf8) }

  /// A mistake in the line's JSON: the 0-based byte in the line, and why.
  struct SyntaxError: Error {
    var offset: Int
    var message: String
  }

  /// The line's fields, or where it stops being JSON.
  mutating func fields(_ line: UnsafeBufferPointer<UInt8>) throws(SyntaxError) -> HistoryParser.Fields {
    var r = JSONReader(line)
    // Moved in and out, not copied: a copy would be made again at the first array.
    swap(&r.interner, &interner)
    defer { swap(&r.interner, &interner) }
    var fields = HistoryParser.Fields()
    func stop(_ r: JSONReader, _ message: String) -> SyntaxError {
      SyntaxError(offset: r.i, message: message)
    }
    r.skipSpace()
    guard r.i < line.count, line[r.i] == UInt8(ascii: "{") else { throw stop(r, "expected '{': each line is one JSON object") }
    r.i += 1
    r.skipSpace()
    if r.i < line.count, line[r.i] == UInt8(ascii: "}") {
      r.i += 1
    } else {
      var seen = 0  // bits of the keys read: the first of duplicate keys counts, as JSONDecoder keeps it
      while true {
        r.skipSpace()
        guard r.i < line.count, line[r.i] == UInt8(ascii: "\"") else { throw stop(r, "expected a key (a string in double quotes)") }
        let slot = Self.slot(&r)
        if slot == -2 { throw SyntaxError(offset: r.stop!.offset, message: r.stop!.message) }
        r.skipSpace()
        guard r.i < line.count, line[r.i] == UInt8(ascii: ":") else { throw stop(r, "expected ':' after the key") }
        r.i += 1
        r.skipSpace()
        if slot == 1 || slot == 2, seen & (1 << slot) == 0, let known = known(&r) {
          // A type or f seen before: the same string, not validated and made again.
          seen |= 1 << slot
          fields[slot] = known
        } else {
          let valueStart = r.i
          guard let v = r.value(depth: 1) else { throw SyntaxError(offset: r.stop!.offset, message: r.stop!.message) }
          if slot >= 0, seen & (1 << slot) == 0 {
            seen |= 1 << slot
            fields[slot] = v
            if slot == 1 || slot == 2 { remember(v, UnsafeBufferPointer(rebasing: line[valueStart..<r.i])) }
          }
        }
        r.skipSpace()
        guard r.i < line.count, line[r.i] == UInt8(ascii: ",") || line[r.i] == UInt8(ascii: "}") else {
          throw stop(r, "expected ',' or '}' after a value")
        }
        r.i += 1
        if line[r.i - 1] == UInt8(ascii: "}") { break }
      }
    }
    r.skipSpace()
    guard r.i == line.count else { throw stop(r, "more text after the object (one object a line)") }
    return fields
  }

  /// The key at `r.i` (its opening quote) as a slot of ``HistoryParser/Fields``:
  /// -1 for a key the format does not use, -2 when it is not a string.
  private static func slot(_ r: inout JSONReader) -> Int {
    // The format's keys have no escapes: compare the bytes up to the closing quote.
    let start = r.i + 1
    var end = start
    while end < r.bytes.count, r.bytes[end] != UInt8(ascii: "\""), r.bytes[end] != UInt8(ascii: "\\"), r.bytes[end] >= 0x20 { end += 1 }
    if end < r.bytes.count, r.bytes[end] == UInt8(ascii: "\"") {
      let name = UnsafeBufferPointer(rebasing: r.bytes[start..<end])
      r.i = end + 1
      return keys.firstIndex { $0.elementsEqual(name) } ?? -1
    }
    guard let name = r.string() else { return -2 }
    return keys.firstIndex { $0.elementsEqual(name.utf8) } ?? -1
  }

  /// The string at `r.i` when it is one already made (its bytes, quotes
  /// included, compared), `r.i` then past it; nil leaves `r.i` alone.
  private func known(_ r: inout JSONReader) -> HistoryValue? {
    guard !strings.isEmpty, r.i < r.bytes.count, r.bytes[r.i] == UInt8(ascii: "\"") else { return nil }
    var end = r.i + 1
    while end < r.bytes.count, r.bytes[end] != UInt8(ascii: "\""), r.bytes[end] != UInt8(ascii: "\\") { end += 1 }
    guard end < r.bytes.count, r.bytes[end] == UInt8(ascii: "\"") else { return nil }
    let count = end + 1 - r.i
    let start = r.bytes.baseAddress! + r.i
    for s in strings where s.text.count == count {
      if s.text.withUnsafeBufferPointer({ memcmp($0.baseAddress!, start, count) == 0 }) {
        r.i = end + 1
        return s.value
      }
    }
    return nil
  }

  /// Keeps a type or f string for ``known(_:)`` (a history names few; at most ``maxStrings``).
  private mutating func remember(_ v: HistoryValue, _ text: UnsafeBufferPointer<UInt8>) {
    guard case .string = v, strings.count < Self.maxStrings else { return }
    strings.append((Array(text), v))
  }

  static let maxStrings = 16
}

extension HistoryParser {
  /// The keys of an operation the format reads, as a line holds them (nil: absent).
  struct Fields {
    var process: HistoryValue?
    var type: HistoryValue?
    var f: HistoryValue?
    var key: HistoryValue?
    var value: HistoryValue?
    var time: HistoryValue?

    init() {}

    init(_ o: [String: HistoryValue]) {
      (process, type, f, key, value, time) = (o["process"], o["type"], o["f"], o["key"], o["value"], o["time"])
    }

    /// By the order of ``EventLineReader``'s keys.
    subscript(slot: Int) -> HistoryValue? {
      get { [process, type, f, key, value, time][slot] }
      set {
        switch slot {
        case 0: process = newValue
        case 1: type = newValue
        case 2: f = newValue
        case 3: key = newValue
        case 4: value = newValue
        default: time = newValue
        }
      }
    }
  }
}

import Foundation

/// cthulhu's JSON Lines, one line at a time, from bytes in memory or read
/// from a file a block at a time (a history of a million transactions is
/// 400 MB: it is never held whole). Blank lines are skipped; each mistake
/// is kept with its line (and, for JSON, column).
struct JSONLinesParser {
  private(set) var events: [HistoryEvent] = []
  private var problems = ProblemList()
  private var reader = EventLineReader()
  /// Lines seen so far.
  private var number = 0

  /// Every line of `bytes`, the text after the last newline included (as a last line).
  mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) {
    var start = 0
    while start <= bytes.count {
      let end = lineEnd(bytes, from: start) ?? bytes.count
      line(UnsafeBufferPointer(rebasing: bytes[start..<end]))
      start = end + 1
    }
  }

  /// The lines of the open file `fd` (after `first`, its bytes already
  /// read), a block at a time; false when reading fails.
  mutating func read(_ fd: Int32, first: Data) -> Bool {
    var buffer = [UInt8](repeating: 0, count: max(1 << 22, first.count))
    buffer.replaceSubrange(0..<first.count, with: first)
    var filled = first.count
    var atEnd = false
    while !atEnd {
      if filled == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }  // a line longer than the block
      let got = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + filled, $0.count - filled) }
      if got < 0 {
        if errno == EINTR { continue }
        return false
      }
      filled += got
      atEnd = got == 0
      // Whole lines only, but for the last (then the rest is the last line).
      let used = buffer.withUnsafeBufferPointer { all -> Int in
        var start = 0
        while let end = lineEnd(all, from: start, upTo: filled) {
          line(UnsafeBufferPointer(rebasing: all[start..<end]))
          start = end + 1
        }
        if atEnd {
          line(UnsafeBufferPointer(rebasing: all[start..<filled]))
          return filled
        }
        return start
      }
      buffer.withUnsafeMutableBufferPointer { b in
        b.baseAddress!.update(from: b.baseAddress! + used, count: filled - used)
      }
      filled -= used
    }
    return true
  }

  /// The events read, or every mistake.
  func finish(file: String) throws(HistoryError) -> [HistoryEvent] {
    try problems.check(file: file)
    return events
  }

  private func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, upTo limit: Int? = nil) -> Int? {
    let limit = limit ?? bytes.count
    var end = start
    while end < limit {
      if bytes[end] == UInt8(ascii: "\n") { return end }
      end += 1
    }
    return nil
  }

  private mutating func line(_ line: UnsafeBufferPointer<UInt8>) {
    number += 1
    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { return }
    do throws(HistoryParser.LineError) {
      let fields: HistoryParser.Fields
      do throws(EventLineReader.SyntaxError) { fields = try reader.fields(line) } catch {
        throw HistoryParser.LineError(
          message: "not a JSON object: \(error.message)\(HistoryParser.found(line, at: error.offset))", column: error.offset + 1)
      }
      if let e = try HistoryParser.event(fields, line: number, jepsen: false) { events.append(e) }
    } catch {
      problems.add(number, error.message, column: error.column)
    }
  }
}

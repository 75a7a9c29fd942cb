import Foundation

/// Reads a history into events, naming the line of every mistake.
///
/// Three formats, told apart by ``HistoryFormat``: cthulhu's JSON Lines,
/// elle-cli's JSON (one array of operations) and Jepsen's EDN. Blank lines
/// are skipped. Keys other than the format's are ignored (Jepsen writes
/// `index`, `error`, …), and so are Jepsen's nemesis operations
/// (`"process": "nemesis"`): faults are not client operations.
public enum HistoryParser {
  public static func parse(contentsOf path: String) throws(HistoryError) -> [HistoryEvent] {
    guard let data = FileManager.default.contents(atPath: path) else {
      var reason = "cannot be read"
      if !FileManager.default.fileExists(atPath: path) { reason = "no such file" }
      throw HistoryError(file: path, problems: [.init(line: 0, message: reason)])
    }
    return try parse(data, file: path)
  }

  public static func parse(_ data: Data, file: String = "history") throws(HistoryError) -> [HistoryEvent] {
    switch HistoryFormat.of(file: file, data: data) {
    case .jsonLines: return try parseLines(data, file: file)
    case .jsonArray: return try JepsenHistory.parseJSON(data, file: file)
    case .edn: return try JepsenHistory.parseEDN(data, file: file)
    }
  }

  static func parseLines(_ data: Data, file: String) throws(HistoryError) -> [HistoryEvent] {
    var events: [HistoryEvent] = []
    var problems = ProblemList()
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      let all = raw.bindMemory(to: UInt8.self)
      var number = 0
      var start = 0
      while start <= all.count {
        var end = start
        while end < all.count, all[end] != UInt8(ascii: "\n") { end += 1 }
        number += 1
        let line = UnsafeBufferPointer(rebasing: all[start..<end])
        start = end + 1
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
        do throws(LineError) {
          if let e = try event(line, line: number) { events.append(e) }
        } catch {
          problems.add(number, error.message)
        }
      }
    }
    try problems.check(file: file)
    return events
  }

  struct LineError: Error { var message: String }

  static func event(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(LineError) -> HistoryEvent? {
    guard case .object(let o)? = JSONReader.parse(bytes) else {
      let text = String(decoding: bytes.prefix(60), as: UTF8.self)
      throw LineError(message: "not a JSON object: \(text)\(bytes.count > 60 ? "…" : "")")
    }
    return try event(o, line: line, jepsen: false)
  }

  /// An operation map as an event; nil for a nemesis operation. Jepsen's
  /// files (`jepsen`) may leave out `process` (``HistoryEvent/anonymousProcess``
  /// until ``JepsenHistory/numberAnonymous(_:)`` numbers it) and `f` (read as "").
  static func event(_ o: [String: HistoryValue], line: Int, jepsen: Bool) throws(LineError) -> HistoryEvent? {
    let process: Int
    switch o["process"] {
    case .int(let p)?: process = Int(p)
    case .string("nemesis")?: return nil
    case nil where jepsen: process = HistoryEvent.anonymousProcess
    case nil: throw LineError(message: "\"process\" is missing (the client's number)")
    case let other?: throw LineError(message: "\"process\" must be an integer, not \(other.json)")
    }
    guard let typeValue = o["type"] else { throw LineError(message: "\"type\" is missing (invoke, ok, fail or info)") }
    guard let t = typeValue.string, let type = HistoryEvent.Kind(rawValue: t) else {
      throw LineError(message: "\"type\" must be invoke, ok, fail or info, not \(typeValue.json)")
    }
    guard let fValue = o["f"] ?? (jepsen ? .string("") : nil) else {
      throw LineError(message: "\"f\" is missing (the operation: read, write, cas, get, put, append)")
    }
    guard let f = fValue.string else { throw LineError(message: "\"f\" must be a string, not \(fValue.json)") }
    var key: String?
    switch o["key"] {
    case nil, .null?: key = nil
    case .string(let k)?: key = k
    case .int(let k)?: key = String(k)
    case let other?: throw LineError(message: "\"key\" must be a string, not \(other.json)")
    }
    var time: UInt64?
    switch o["time"] {
    case nil, .null?: time = nil
    case .int(let ns)? where ns >= 0: time = UInt64(ns)
    case let other?: throw LineError(message: "\"time\" must be nanoseconds (an integer ≥ 0), not \(other.json)")
    }
    return HistoryEvent(process: process, type: type, f: f, value: o["value"] ?? .null, key: key, time: time, line: line)
  }
}

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
    let cannot = { (reason: String) in HistoryError(file: path, problems: [.init(line: 0, message: reason)]) }
    guard let file = FileHandle(forReadingAtPath: path) else {
      throw cannot(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
    }
    defer { try? file.close() }
    // JSON Lines, the large histories, are read a block at a time: the file is never held whole.
    let head: Data
    do { head = try file.read(upToCount: HistoryFormat.lookahead) ?? Data() } catch { throw cannot("cannot be read") }
    if HistoryFormat.of(file: path, data: head) == .jsonLines {
      var lines = JSONLinesParser()
      guard lines.read(file.fileDescriptor, first: head) else { throw cannot("cannot be read") }
      return try lines.finish(file: path)
    }
    let rest: Data
    do { rest = try file.readToEnd() ?? Data() } catch { throw cannot("cannot be read") }
    return try parse(head + rest, file: path)
  }

  public static func parse(_ data: Data, file: String = "history") throws(HistoryError) -> [HistoryEvent] {
    switch HistoryFormat.of(file: file, data: data) {
    case .jsonLines: return try parseLines(data, file: file)
    case .jsonArray: return try JepsenHistory.parseJSON(data, file: file)
    case .edn: return try JepsenHistory.parseEDN(data, file: file)
    }
  }

  static func parseLines(_ data: Data, file: String) throws(HistoryError) -> [HistoryEvent] {
    var lines = JSONLinesParser()
    data.withUnsafeBytes { lines.add($0.bindMemory(to: UInt8.self)) }
    return try lines.finish(file: file)
  }

  /// What the line holds where reading stopped, for a message: `, found "…"`.
  static func found(_ line: UnsafeBufferPointer<UInt8>, at offset: Int) -> String {
    guard offset < line.count else { return ", found the end of the line" }
    let rest = String(decoding: line[offset...].prefix(24), as: UTF8.self)
    return ", found \(HistoryValue.quote(rest))\(line.count - offset > 24 ? "…" : "")"
  }

  struct LineError: Error {
    var message: String
    /// 1-based byte in the line, when known.
    var column = 0
  }

  /// An operation map as an event; nil for a nemesis operation. Jepsen's
  /// files (`jepsen`) may leave out `process` (``HistoryEvent/anonymousProcess``
  /// until ``JepsenHistory/numberAnonymous(_:)`` numbers it) and `f` (read as "").
  static func event(_ o: Fields, line: Int, jepsen: Bool) throws(LineError) -> HistoryEvent? {
    let process: Int
    switch o.process {
    case .int(let p)?: process = Int(p)
    case .string("nemesis")?: return nil
    case nil where jepsen: process = HistoryEvent.anonymousProcess
    case nil: throw LineError(message: "\"process\" is missing (the client's number)")
    case let other?: throw LineError(message: "\"process\" must be an integer, not \(other.json)")
    }
    guard let typeValue = o.type else { throw LineError(message: "\"type\" is missing (invoke, ok, fail or info)") }
    guard let t = typeValue.string, let type = HistoryEvent.Kind(rawValue: t) else {
      throw LineError(message: "\"type\" must be invoke, ok, fail or info, not \(typeValue.json)")
    }
    guard let fValue = o.f ?? (jepsen ? .string("") : nil) else {
      throw LineError(message: "\"f\" is missing (the operation: read, write, cas, get, put, append)")
    }
    guard let f = fValue.string else { throw LineError(message: "\"f\" must be a string, not \(fValue.json)") }
    var key: String?
    switch o.key {
    case nil, .null?: key = nil
    case .string(let k)?: key = k
    case .int(let k)?: key = String(k)
    case let other?: throw LineError(message: "\"key\" must be a string, not \(other.json)")
    }
    var time: UInt64?
    switch o.time {
    case nil, .null?: time = nil
    case .int(let ns)? where ns >= 0: time = UInt64(ns)
    case let other?: throw LineError(message: "\"time\" must be nanoseconds (an integer ≥ 0), not \(other.json)")
    }
    return HistoryEvent(process: process, type: type, f: f, value: o.value ?? .null, key: key, time: time, line: line)
  }
}

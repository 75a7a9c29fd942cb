import Foundation

/// The formats a history file may be in, told apart by extension and content.
public enum HistoryFormat: String, Sendable, CaseIterable {
  /// cthulhu's (and Jepsen's JSON) one object a line.
  case jsonLines
  /// elle-cli's JSON: one array of operation objects.
  case jsonArray
  /// Jepsen's `history.edn`: EDN maps, bare one after another, or in one vector or list.
  case edn

  /// `.edn` is EDN; `.json` and `.jsonl` are JSON, an array when the text
  /// starts with `[`. Any other name goes by the first character that is not
  /// whitespace: `[` then `{"` (or `]`) is a JSON array, `{"` JSON Lines, and
  /// anything else (`{:`, `[{:`, `(`, `;`, `#`) EDN.
  /// How many bytes from the start ``of(file:data:)`` looks at.
  public static let lookahead = 256

  public static func of(file: String, data: Data) -> HistoryFormat {
    let lead = data.prefix(lookahead).filter { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: ",")) }
    let first = lead.first
    let second = lead.dropFirst().first
    let third = lead.dropFirst(2).first
    let ext = (file as NSString).pathExtension.lowercased()
    switch ext {
    case "edn": return .edn
    case "json", "jsonl", "ndjson": return ext != "jsonl" && first == UInt8(ascii: "[") ? .jsonArray : .jsonLines
    default: break
    }
    let quote = UInt8(ascii: "\"")
    switch first {
    case UInt8(ascii: "{")? where second == quote || second == UInt8(ascii: "}"): return .jsonLines
    case UInt8(ascii: "[")? where second == UInt8(ascii: "]") || (second == UInt8(ascii: "{") && (third == quote || third == UInt8(ascii: "}"))):
      return .jsonArray
    case nil: return .jsonLines
    default: return .edn
    }
  }
}

/// Jepsen's and elle-cli's files: operation maps in real-time order.
enum JepsenHistory {
  static func parseEDN(_ data: Data, file: String) throws(HistoryError) -> [HistoryEvent] {
    let read = data.withUnsafeBytes { raw in
      Result { () throws(EDNError) in try EDNReader.forms(raw.bindMemory(to: UInt8.self), unwrap: true) }
    }
    let forms: [EDNReader.Form]
    switch read {
    case .success(let f): forms = f
    case .failure(let error): throw HistoryError(file: file, problems: [.init(line: error.line, message: error.message, column: error.column)])
    }
    return try events(forms.lazy.map { ($0.value, $0.line) }, file: file, what: "an EDN map")
  }

  static func parseJSON(_ data: Data, file: String) throws(HistoryError) -> [HistoryEvent] {
    let result = data.withUnsafeBytes { raw in
      let bytes = raw.bindMemory(to: UInt8.self)
      return JSONReader.elements(bytes).map { elements in
        var line = 1
        var at = 0
        return elements.map { e in
          while at < e.offset {
            if bytes[at] == 0x0A { line += 1 }
            at += 1
          }
          return (e.value, line)
        }
      }.mapError { stop in
        let upTo = UnsafeBufferPointer(rebasing: bytes[0..<min(stop.offset, bytes.count)])
        let line = upTo.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        let column = stop.offset - (upTo.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return HistoryError(file: file, problems: [.init(line: line, message: "not a JSON array of operations: \(stop.message)", column: column)])
      }
    }
    switch result {
    case .success(let ops): return try events(ops, file: file, what: "a JSON object")
    case .failure(let error): throw error
    }
  }

  private static func events(_ ops: some Sequence<(HistoryValue, Int)>, file: String, what: String) throws(HistoryError) -> [HistoryEvent] {
    var events: [HistoryEvent] = []
    var problems = ProblemList()
    for (value, line) in ops {
      guard case .object(let o) = value else {
        problems.add(line, "an operation must be \(what), not \(String(value.json.prefix(60)))")
        continue
      }
      do throws(HistoryParser.LineError) {
        if let e = try HistoryParser.event(HistoryParser.Fields(o), line: line, jepsen: true) { events.append(e) }
      } catch {
        problems.add(line, error.message)
      }
    }
    try problems.check(file: file)
    numberAnonymous(&events)
    return events
  }

  /// Operations without `:process` (Elle's own examples leave it out): each
  /// invoke is a process of its own (-1, -2, …), and a completion answers
  /// the oldest outstanding such invoke of the same `:f`.
  static func numberAnonymous(_ events: inout [HistoryEvent]) {
    var open: [(f: String, process: Int)] = []
    var next = -1
    for i in events.indices where events[i].process == HistoryEvent.anonymousProcess {
      if events[i].type == .invoke {
        events[i].process = next
        open.append((events[i].f, next))
        next -= 1
      } else if let k = open.firstIndex(where: { $0.f == events[i].f }) {
        events[i].process = open.remove(at: k).process
      } else {
        events[i].process = next
        next -= 1
      }
    }
  }
}

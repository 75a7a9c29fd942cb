import History

/// A client's answer to one request: `{"type": "ok", "value": …}`,
/// `{"type": "fail", "error": "…"}` (it did not happen) or
/// `{"type": "info", "error": "…"}` (outcome unknown).
struct Reply: Equatable {
  var type: HistoryEvent.Kind
  /// The completion's value: a read's result; the request's value when the reply has none.
  var value: HistoryValue
  var error: String?

  /// Reads a reply line; nil when it is not one (the client broke the protocol).
  static func parse(_ line: String, request: Invocation) -> Reply? {
    guard case .object(let o) = HistoryValue.parsing(line), case .string(let t) = o["type"] else { return nil }
    let kind: HistoryEvent.Kind
    switch t {
    case "ok": kind = .ok
    case "fail": kind = .fail
    case "info": kind = .info
    default: return nil
    }
    let value = kind == .ok ? (o["value"] ?? request.value) : request.value
    return Reply(type: kind, value: value, error: o["error"]?.string ?? o["error"].map(\.json))
  }
}

import History

/// One operation for a client, as invoked: what a request line carries.
public struct Invocation: Sendable, Hashable {
  public var f: String
  public var key: String?
  public var value: HistoryValue

  public init(f: String, key: String? = nil, value: HistoryValue = .null) {
    self.f = f
    self.key = key
    self.value = value
  }

  /// The request line (without the newline): `{"f": "add", "value": 17}`,
  /// `{"f": "write", "key": "k1", "value": 5}`, `{"f": "read"}` (a null value is left out).
  public var requestLine: String {
    var s = "{\"f\": \(HistoryValue.quote(f))"
    if let key { s += ", \"key\": \(HistoryValue.quote(key))" }
    if value != .null { s += ", \"value\": \(value.json)" }
    return s + "}"
  }
}

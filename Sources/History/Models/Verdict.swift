/// What a model made of a history, for people (`summary`, `lines`) and
/// machines (`json`, Codable): `{"formatVersion": 1, "valid": true|false|"unknown", "model": …, …}`.
public struct Verdict: Sendable, Codable {
  public enum Validity: String, Sendable, Hashable {
    case valid, invalid, unknown
  }

  public static let formatVersion = 1
  public var valid: Validity
  public var model: ModelName
  /// The facts of the verdict line: `292 attempted, 0 stable, 292 lost`.
  public var summary: String
  /// The explanation, a line each, none longer than ``Verdict/lineLimit``.
  public var lines: [String]
  /// The model's own fields (counts, lost elements, the first error…).
  public var fields: [String: HistoryValue]
  /// For a linearizability model: the search's report (witness, orders).
  public var linearizability: CheckReport?

  /// The longest line a report holds (longer values are shortened with `…`).
  public static let lineLimit = 120

  public init(valid: Validity, model: ModelName, summary: String, lines: [String] = [], fields: [String: HistoryValue] = [:]) {
    self.valid = valid
    self.model = model
    self.summary = summary
    self.lines = lines.map { Self.clip($0) }
    self.fields = fields
  }

  /// The verdict as one JSON object: formatVersion, valid, model, summary,
  /// then the model's fields, sorted by name (the same history gives the same text).
  public var json: String {
    let v: String
    switch valid {
    case .valid: v = "true"
    case .invalid: v = "false"
    case .unknown: v = "\"unknown\""
    }
    var s = "{\"formatVersion\":\(Self.formatVersion),\"valid\":\(v),\"model\":\(HistoryValue.quote(model.rawValue))"
    s += ",\"summary\":\(HistoryValue.quote(summary))"
    for k in fields.keys.sorted() { s += "," + HistoryValue.quote(k) + ":" + fields[k]!.json }
    return s + "}"
  }

  static func clip(_ line: String, to limit: Int = lineLimit) -> String {
    line.count <= limit ? line : String(line.prefix(limit - 1)) + "…"
  }

  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }
  private static let fixed: Set<String> = ["formatVersion", "valid", "model", "summary", "lines"]

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(Self.formatVersion, forKey: Key("formatVersion"))
    switch valid {
    case .valid: try c.encode(true, forKey: Key("valid"))
    case .invalid: try c.encode(false, forKey: Key("valid"))
    case .unknown: try c.encode("unknown", forKey: Key("valid"))
    }
    try c.encode(model, forKey: Key("model"))
    try c.encode(summary, forKey: Key("summary"))
    for (k, v) in fields where !Self.fixed.contains(k) { try c.encode(v, forKey: Key(k)) }
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: Key.self)
    if let b = try? c.decode(Bool.self, forKey: Key("valid")) {
      valid = b ? .valid : .invalid
    } else {
      valid = .unknown
    }
    model = try c.decode(ModelName.self, forKey: Key("model"))
    summary = try c.decode(String.self, forKey: Key("summary"))
    lines = []
    fields = [:]
    for k in c.allKeys where !Self.fixed.contains(k.stringValue) { fields[k.stringValue] = try c.decode(HistoryValue.self, forKey: k) }
  }
}

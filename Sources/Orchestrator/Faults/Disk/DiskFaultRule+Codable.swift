import Foundation
import Manifest

/// The JSON of a rule: `{"kind":"delay","delay":"50ms","ops":["fsync"],
/// "path":"^/wal/","percent":50,"seed":7}` or `{"kind":"error","errno":"ENOSPC",…}`
/// (docs/disk-faults.md). Decoding checks it as ``DiskFaultRule/init(_:ops:path:percent:seed:rule:)``
/// does, and throws ``DiskRuleError`` naming the rule (its place in the
/// list, from 1) and the field; a field it does not know is refused too.
extension DiskFaultRule: Codable {
  struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  static let fields = ["kind", "delay", "errno", "ops", "path", "percent", "seed"]

  public init(from decoder: any Decoder) throws {
    let rule = (decoder.codingPath.last?.intValue ?? 0) + 1
    let fields: KeyedDecodingContainer<Key>
    do { fields = try decoder.container(keyedBy: Key.self) } catch {
      throw DiskRuleError(rule: rule, field: "kind", problem: "a rule is an object ({\"kind\":\"delay\",…})")
    }
    for key in fields.allKeys where !Self.fields.contains(key.stringValue) {
      throw DiskRuleError(rule: rule, field: key.stringValue, problem: "not a field of a rule (\(Self.fields.joined(separator: ", ")))")
    }
    func value<T: Decodable>(_ name: String, _ type: T.Type, _ what: String) throws(DiskRuleError) -> T? {
      do { return try fields.decodeIfPresent(T.self, forKey: Key(name)) } catch {
        throw DiskRuleError(rule: rule, field: name, problem: "not \(what)")
      }
    }
    let kind = try value("kind", String.self, "a string")
    let hasDelay = fields.contains(Key("delay"))
    let hasErrno = fields.contains(Key("errno"))
    let action: Action
    switch kind {
    case "delay"?:
      guard !hasErrno else { throw DiskRuleError(rule: rule, field: "errno", problem: "a delay rule has none (its kind is delay)") }
      action = .delay(try Self.delay(fields, rule: rule))
    case "error"?:
      guard !hasDelay else { throw DiskRuleError(rule: rule, field: "delay", problem: "an error rule has none (its kind is error)") }
      guard let name = try value("errno", String.self, "a string (EIO, ENOSPC, …)") else {
        throw DiskRuleError(rule: rule, field: "errno", problem: "missing: an error rule names the error it returns (EIO, ENOSPC, EROFS, …)")
      }
      guard let errno = DiskErrno(name) else {
        throw DiskRuleError(rule: rule, field: "errno", problem: "\"\(name)\" is not an error the layer returns (\(DiskErrno.names))")
      }
      action = .error(errno)
    case let other?:
      throw DiskRuleError(rule: rule, field: "kind", problem: "\"\(other)\" is neither delay nor error")
    case nil:
      throw DiskRuleError(rule: rule, field: "kind", problem: "missing: delay or error")
    }
    var ops: [DiskOperation]?
    if let names = try value("ops", [String].self, "a list of operation names") {
      ops = try names.map { name throws(DiskRuleError) in
        guard let op = DiskOperation(rawValue: name) else {
          throw DiskRuleError(rule: rule, field: "ops", problem: "\"\(name)\" is not an operation (\(DiskOperation.names))")
        }
        return op
      }
    }
    var percent = 100.0
    if fields.contains(Key("percent")) {
      if let number = try? fields.decode(Double.self, forKey: Key("percent")) {
        percent = number
      } else if let text = try? fields.decode(String.self, forKey: Key("percent")), let parsed = Units.percent(text) {
        percent = parsed
      } else {
        throw DiskRuleError(rule: rule, field: "percent", problem: "not a number from 0 to 100")
      }
    }
    let path = try value("path", String.self, "a string (a regular expression)")
    let seed = try value("seed", UInt64.self, "a whole number from 0 to 2^64 - 1") ?? 0
    try self.init(action, ops: ops, path: path, percent: percent, seed: seed, rule: rule)
  }

  /// `"50ms"`, `"1.5s"` (as commands write durations) or a number of milliseconds.
  private static func delay(_ fields: KeyedDecodingContainer<Key>, rule: Int) throws(DiskRuleError) -> Duration {
    guard fields.contains(Key("delay")) else {
      throw DiskRuleError(rule: rule, field: "delay", problem: "missing: a delay rule says how long (\"50ms\", or a number of milliseconds)")
    }
    if let text = try? fields.decode(String.self, forKey: Key("delay")) {
      guard let delay = Units.duration(text) else {
        throw DiskRuleError(rule: rule, field: "delay", problem: "\"\(text)\" is not a duration (50ms, 2s, 1m30s)")
      }
      return delay
    }
    guard let ms = try? fields.decode(Double.self, forKey: Key("delay")), ms.isFinite, ms >= 0, ms <= Self.longestDelay.milliseconds else {
      throw DiskRuleError(rule: rule, field: "delay", problem: "not a duration (\"50ms\", or milliseconds from 0 to 3600000)")
    }
    return .nanoseconds(Int64((ms * 1_000_000).rounded()))
  }

  public func encode(to encoder: any Encoder) throws {
    var fields = encoder.container(keyedBy: Key.self)
    switch action {
    case .delay(let delay):
      try fields.encode("delay", forKey: Key("kind"))
      // Whole milliseconds as commands write them; a finer delay as a number of milliseconds.
      if delay == .milliseconds(delay.wholeMilliseconds) {
        try fields.encode(Units.text(delay), forKey: Key("delay"))
      } else {
        try fields.encode(delay.milliseconds, forKey: Key("delay"))
      }
    case .error(let errno):
      try fields.encode("error", forKey: Key("kind"))
      try fields.encode(errno.name, forKey: Key("errno"))
    }
    try fields.encodeIfPresent(ops?.map(\.rawValue), forKey: Key("ops"))
    try fields.encodeIfPresent(path, forKey: Key("path"))
    try fields.encode(percent, forKey: Key("percent"))
    try fields.encode(seed, forKey: Key("seed"))
  }
}

/// `{"set":[rule, …]}`, `{"add":[rule, …]}` or `{"clear":{}}`.
extension DiskRulesChange: Codable {
  enum CodingKeys: String, CodingKey { case set, add, clear }

  public init(from decoder: any Decoder) throws {
    let fields = try decoder.container(keyedBy: CodingKeys.self)
    guard fields.allKeys.count == 1, let key = fields.allKeys.first else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "one of set, add or clear"))
    }
    switch key {
    case .set: self = .set(try fields.decode([DiskFaultRule].self, forKey: .set))
    case .add: self = .add(try fields.decode([DiskFaultRule].self, forKey: .add))
    case .clear: self = .clear
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var fields = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .set(let rules): try fields.encode(rules, forKey: .set)
    case .add(let rules): try fields.encode(rules, forKey: .add)
    case .clear: _ = fields.nestedContainer(keyedBy: CodingKeys.self, forKey: .clear)
    }
  }
}

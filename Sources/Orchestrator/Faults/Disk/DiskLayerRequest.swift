/// A request to a running disk layer (`cthulhu _disk`): one JSON line on
/// its control socket (`<state>/control.sock`), answered by one JSON line
/// (``DiskLayerReply``), then the connection closes. The spelling of each
/// request is in docs/disk-faults.md; ask with ``DiskLayerClient``.
public enum DiskLayerRequest: Sendable, Equatable {
  /// Roll the backing folder back to what was made durable:
  /// `{"loseUnsynced":{"torn":false,"seed":S}}`.
  case loseUnsynced(torn: Bool, seed: UInt64)
  /// How much that would undo, and the rules in force: `{"status":{}}`.
  case status
  /// Make everything as it stands durable, as `sync(2)` or the kernel's
  /// own write-back would: `{"sync":{}}`. The reply's `status` says what
  /// was not durable before.
  case sync
  /// Set, add or clear delay and error rules: `{"rules":{"set":[…]}}`,
  /// `{"rules":{"add":[…]}}`, `{"rules":{"clear":{}}}`.
  case rules(DiskRulesChange)
}

/// The answer to a ``DiskLayerRequest``: the report asked for, or why not
/// (`error`, a sentence for people).
public struct DiskLayerReply: Codable, Sendable, Equatable {
  public var loss: LossReport?
  public var status: DiskLayerStatus?
  /// After `rules`: the rules in force (`set`, `add`), or those lifted with what they did (`clear`).
  public var rules: [DiskRuleStatus]?
  public var error: String?

  public init(loss: LossReport? = nil, status: DiskLayerStatus? = nil, rules: [DiskRuleStatus]? = nil, error: String? = nil) {
    self.loss = loss
    self.status = status
    self.rules = rules
    self.error = error
  }
}

/// One key naming the request, its arguments inside.
extension DiskLayerRequest: Codable {
  enum CodingKeys: String, CodingKey { case loseUnsynced, status, sync, rules }
  enum LossKeys: String, CodingKey { case torn, seed }

  public init(from decoder: any Decoder) throws {
    let fields = try decoder.container(keyedBy: CodingKeys.self)
    guard fields.allKeys.count == 1, let key = fields.allKeys.first else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "one of loseUnsynced, status, sync or rules"))
    }
    switch key {
    case .loseUnsynced:
      let loss = try fields.nestedContainer(keyedBy: LossKeys.self, forKey: .loseUnsynced)
      self = .loseUnsynced(torn: try loss.decode(Bool.self, forKey: .torn), seed: try loss.decode(UInt64.self, forKey: .seed))
    case .status:
      _ = try fields.nestedContainer(keyedBy: CodingKeys.self, forKey: .status)
      self = .status
    case .sync:
      _ = try fields.nestedContainer(keyedBy: CodingKeys.self, forKey: .sync)
      self = .sync
    case .rules:
      self = .rules(try fields.decode(DiskRulesChange.self, forKey: .rules))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var fields = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .loseUnsynced(let torn, let seed):
      var loss = fields.nestedContainer(keyedBy: LossKeys.self, forKey: .loseUnsynced)
      try loss.encode(torn, forKey: .torn)
      try loss.encode(seed, forKey: .seed)
    case .status:
      _ = fields.nestedContainer(keyedBy: CodingKeys.self, forKey: .status)
    case .sync:
      _ = fields.nestedContainer(keyedBy: CodingKeys.self, forKey: .sync)
    case .rules(let change):
      try fields.encode(change, forKey: .rules)
    }
  }
}

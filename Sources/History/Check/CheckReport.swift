/// What `check` found.
public struct CheckReport: Sendable {
  public enum Verdict: String, Sendable, Hashable {
    case linearizable
    case notLinearizable = "not linearizable"
    /// The time ran out before a verdict: never a guess.
    case unknown
  }

  public var verdict: Verdict
  public var model: ModelKind
  /// Operations that took part (failed ones and unknown reads do not).
  public var operations: Int
  /// Independent parts checked alone (keys, for kv).
  public var partitions: Int
  /// For a linearizable history: per part, an order of its operations (ids)
  /// that the model accepts and that real time allows.
  public var linearizations: [Part] = []
  public var violation: Violation?
  /// Why the verdict is unknown.
  public var unknownReason: String?
  /// How long narrowing a violation down to `violation` took (zero otherwise):
  /// the verdict was known before.
  public var narrowing: Duration = .zero

  public struct Part: Sendable {
    /// The key; nil for a single register.
    public var key: String?
    public var order: [Int]
  }
}

/// The part of a history that cannot be linearized.
public struct Violation: Sendable {
  /// The key whose operations cannot be linearized (kv); nil for a register.
  public var key: String?
  /// Every operation of that part (ids), for context.
  public var part: [Int]
  /// The operations (ids, in invoke order) that cannot be linearized even
  /// when every other operation of the part may take effect at any time
  /// after its invoke, or never, and its result is not taken into account.
  public var witness: [Int]
  /// Whether removing any one operation of `witness` makes it linearizable
  /// (false when the minimization's limits ran out first).
  public var minimal: Bool
  /// Event position from which the history plays no part: operations
  /// invoked at or after it are left out, those outstanding at it count as
  /// unknown. The shortest prefix that cannot be linearized ends here.
  public var cut: Int
  /// The longest legal order of witness operations the search built, the
  /// state after each, and the operation whose completion no order could reach.
  public var longest: [Int]
  public var states: [String]
  public var blocked: Int
}

/// Every model `check` knows, by the name `--model` takes (elle-cli's names
/// where it has them). The one place a model is named: ``ModelCheck``
/// dispatches on it.
public enum ModelName: String, Sendable, Hashable, CaseIterable, Codable {
  case register
  case casRegister = "cas-register"
  case kv
  case mutex
  case multiRegister = "multi-register"
  case set
  case setFull = "set-full"
  case counter
  case bank
  case longFork = "long-fork"
  case listAppend = "list-append"
  case rwRegister = "rw-register"

  /// The linearizability model behind it, when it is checked by search.
  public var linearizability: ModelKind? { ModelKind(rawValue: rawValue) }

  /// The names, for help and messages: `register, cas-register, …`.
  public static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What a check may be told besides the model (each option applies to the
/// models that name it; the others ignore it).
public struct CheckOptions: Sendable {
  /// When to give up and answer unknown (linearizability models).
  public var deadline: ContinuousClock.Instant?
  /// register, cas-register: the value it holds first (`null` when nil);
  /// multi-register: an object of keys to values.
  public var initialValue: HistoryValue?
  /// bank: the total every read must show (else the first read's).
  public var total: Int64?
  /// bank: whether a negative balance is allowed.
  public var negativeBalances: Bool
  /// long-fork: how many keys each read reads (else the first read's count).
  public var groupSize: Int?
  /// set-full: whether a stale read (an element missing from a read invoked
  /// after it was known to be added) makes the history invalid.
  public var linearizable: Bool
  /// list-append, rw-register: Elle's options.
  public var transactions: TransactionCheckOptions

  public init(
    deadline: ContinuousClock.Instant? = nil, initialValue: HistoryValue? = nil, total: Int64? = nil, negativeBalances: Bool = false,
    groupSize: Int? = nil, linearizable: Bool = false, transactions: TransactionCheckOptions = TransactionCheckOptions()
  ) {
    self.deadline = deadline
    self.initialValue = initialValue
    self.total = total
    self.negativeBalances = negativeBalances
    self.groupSize = groupSize
    self.linearizable = linearizable
    self.transactions = transactions
  }
}

/// The library's entry point: a history judged by a model named at run time.
public enum ModelCheck {
  public static func check(history: History, model: ModelName, options: CheckOptions = CheckOptions()) throws(HistoryError) -> Verdict {
    switch model {
    case .register, .casRegister, .kv, .mutex, .multiRegister:
      let report = try Checker.check(
        history, model: model.linearizability!, options: .init(deadline: options.deadline, initialValue: options.initialValue))
      return Verdict(linearizability: report, model: model)
    case .set: return try SetChecker.check(history)
    case .setFull: return try SetFullChecker(linearizable: options.linearizable).check(history)
    case .counter: return try CounterChecker.check(history)
    case .bank: return try BankChecker(total: options.total, negativeBalances: options.negativeBalances).check(history)
    case .longFork: return try LongForkChecker(groupSize: options.groupSize).check(history)
    case .listAppend, .rwRegister:
      return Verdict(transactions: try TransactionChecks.check(history, model: model.rawValue, options: options.transactions), model: model)
    }
  }
}

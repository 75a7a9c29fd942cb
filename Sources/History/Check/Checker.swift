/// Linearizability of a history against a model.
///
/// Each independent part (a key, for kv) is searched alone (Herlihy and
/// Wing's locality, which Porcupine's P-compositionality uses): the history
/// is linearizable when every part is. A part that is not is narrowed to a
/// small set of its operations that cannot be linearized (``Witness``).
public enum Checker {
  public struct Options: Sendable {
    /// When to give up and answer `unknown`.
    public var deadline: ContinuousClock.Instant?
    /// Whether to narrow a violation down to a small witness (on by default).
    public var witness: Bool
    /// How long the narrowing may take at most (within the deadline): past
    /// it, the witness is what is narrowed so far, and not called minimal.
    /// None by default: a time limit makes the witness depend on the
    /// machine's speed; `narrowingSearches` bounds the work instead.
    public var narrowing: Duration?
    /// How many searches the narrowing may run (each bounded by the model's
    /// memo): the same history always gets the same witness.
    public var narrowingSearches: Int
    /// What a register holds first (`null` when nil); for multi-register,
    /// an object of keys to values (a key not in it starts as `null`).
    public var initialValue: HistoryValue?
    public init(
      deadline: ContinuousClock.Instant? = nil, witness: Bool = true, narrowing: Duration? = nil, narrowingSearches: Int = 400,
      initialValue: HistoryValue? = nil
    ) {
      self.deadline = deadline
      self.witness = witness
      self.narrowing = narrowing
      self.narrowingSearches = narrowingSearches
      self.initialValue = initialValue
    }
  }

  public static func check(_ history: History, model: ModelKind, options: Options = Options()) throws(HistoryError) -> CheckReport {
    switch model {
    case .register, .casRegister: return try check(history, RegisterModel(kind: model, initial: options.initialValue ?? .null), options)
    case .kv: return try check(history, KVModel(), options)
    case .mutex: return try check(history, MutexModel(), options)
    case .multiRegister:
      return try check(history, MultiRegisterModel(initial: try MultiRegisterModel.initialState(options.initialValue, file: history.file)), options)
    }
  }

  static func check<M: HistoryModel>(_ history: History, _ model: M, _ options: Options) throws(HistoryError) -> CheckReport {
    let parts = try typed(history, model)
    let count = parts.reduce(0) { $0 + $1.ops.count }
    var report = CheckReport(verdict: .linearizable, model: model.kind, operations: count, partitions: parts.count)
    var orders: [Int: [Int]] = [:]
    var failing: [(part: Int, evidence: Witness.Evidence<M.Spec.State>)] = []
    // Several parts are searched in rounds, each with four times the memo
    // of the last, so one hard part cannot hide a violation another shows
    // at once: the first round that finds a violation decides. The first
    // round is small (64 pairs): a violation usually shows early (kv_c50-bad
    // took 1.09 s to its verdict when rounds began at 65,536, 0.10 s now),
    // and the rounds repeated for a hard part cost at most a third more
    // than its last. A lone part is searched once, without a limit.
    var undecided: [Int] = []
    for i in parts.indices {
      if let order = model.shortcut(parts[i].ops) { orders[i] = order } else { undecided.append(i) }
    }
    undecided.sort { parts[$0].ops.count < parts[$1].ops.count }
    var memo = undecided.count == 1 ? Int.max : 1 << 6
    var outOfTime = false
    while !undecided.isEmpty, failing.isEmpty, !outOfTime {
      var next: [Int] = []
      for i in undecided {
        let last = memo > Int.max / 4
        switch model.search(kept: parts[i].ops, relaxed: []).run(SearchLimits(deadline: options.deadline, memo: last ? nil : memo)) {
        case .linearizable(let order): orders[i] = order
        case .violation(let l, let s, let b, let f): failing.append((i, (l, s, b, f)))
        case .unknown(.memo): next.append(i)
        case .unknown(.deadline): outOfTime = true
        }
        if outOfTime { break }
      }
      undecided = next
      memo = memo > Int.max / 4 ? memo : memo * 4
    }
    // The part that fails earliest in the history: the shortest prefix to narrow.
    if let smallest = failing.min(by: { ($0.evidence.frontier, $0.part) < ($1.evidence.frontier, $1.part) }) {
      report.verdict = .notLinearizable
      let narrowingStarted = ContinuousClock.now
      defer { report.narrowing = ContinuousClock.now - narrowingStarted }
      var until = options.narrowing.map { narrowingStarted + $0 }
      if let d = options.deadline, until == nil || d < until! { until = d }
      let part = parts[smallest.part]
      report.violation = Witness.find(
        model: model, key: part.key, ops: part.ops, first: smallest.evidence, deadline: until, searches: options.narrowingSearches,
        narrow: options.witness)
    } else if outOfTime {
      report.verdict = .unknown
      report.unknownReason = "the time ran out with \(parts.count - orders.count) of \(parts.count) parts undecided"
    } else {
      report.linearizations = parts.indices.map { CheckReport.Part(key: parts[$0].key, order: orders[$0]!) }
    }
    return report
  }

  /// The history's operations as the model's inputs, by part in first-use
  /// order; failed operations and reads of unknown outcome drop out.
  static func typed<M: HistoryModel>(_ history: History, _ model: M) throws(HistoryError) -> [(key: String?, ops: [SearchOp<M.Spec.Input>])] {
    var problems = ProblemList()
    var parts: [(key: String?, ops: [SearchOp<M.Spec.Input>])] = []
    var index: [String?: Int] = [:]
    for op in history.operations {
      let input: M.Spec.Input?
      do { input = try model.input(for: op) } catch {
        problems.add(op.invokeLine, error.message)
        continue
      }
      guard op.outcome != .fail, var i = input else { continue }
      let ret: Int
      if op.outcome == .ok, let c = op.completion {
        ret = c
      } else {
        i = model.unknown(i)
        ret = SearchOp<M.Spec.Input>.never
      }
      let key = model.partition(of: op)
      if index[key] == nil {
        index[key] = parts.count
        parts.append((key, []))
      }
      parts[index[key]!].ops.append(SearchOp(id: op.id, input: i, call: op.invoke, ret: ret))
    }
    try problems.check(file: history.file)
    return parts
  }
}

/// Shape checks the checkers share: which operations a model has, and
/// problems named by line, all reported at once.
struct HistoryShape {
  var history: History
  var problems = ProblemList()

  init(_ history: History) { self.history = history }

  /// Notes every operation whose `f` the model has no place for.
  mutating func only(_ fs: Set<String>, model: ModelName) {
    let names = fs.sorted().joined(separator: " and ")
    for op in history.operations where !fs.contains(op.f) {
      problems.add(op.invokeLine, "\(op.f) is not an operation of \(model.rawValue) (its operations are \(names))")
    }
  }

  mutating func add(_ op: ClientOperation, _ message: String, completion: Bool = false) {
    problems.add(completion ? op.completionLine ?? op.invokeLine : op.invokeLine, message)
  }

  func check() throws(HistoryError) { try problems.check(file: history.file) }

  /// The operation's result when ok (the completion's value), else its argument.
  static func value(_ op: ClientOperation) -> HistoryValue {
    op.outcome == .ok ? op.result ?? op.argument : op.argument
  }

  static func integer(_ v: HistoryValue) -> Int64? {
    switch v {
    case .int(let i): return i
    case .double(let d): return Int64(exactly: d)
    default: return nil
    }
  }
}

/// A register's operations, typed.
enum RegisterInput: Sendable, Hashable {
  /// A read that returned the value.
  case read(HistoryValue)
  case write(HistoryValue)
  /// A compare-and-set that succeeded: the register held `expected`.
  case cas(expected: HistoryValue, new: HistoryValue)
  /// A compare-and-set whose outcome is unknown: it sets `new` if the
  /// register holds `expected` when it takes effect, else changes nothing.
  case maybeCAS(expected: HistoryValue, new: HistoryValue)
}

/// A register that starts as `initial` (`null` unless told). In a relaxed
/// search, `ghosts` are values that may appear in the register at any moment
/// after a position (the writes that were relaxed).
struct RegisterSpec: SequentialSpec {
  var initial: HistoryValue = .null
  var ghosts: [HistoryValue: Int] = [:]

  func apply(_ op: SearchOp<RegisterInput>, to state: HistoryValue) -> HistoryValue? {
    switch op.input {
    case .read(let v): return state == v || ghost(v, before: op.ret) ? v : nil
    case .write(let v): return v
    case .cas(let expected, let new): return state == expected || ghost(expected, before: op.ret) ? new : nil
    case .maybeCAS(let expected, let new): return state == expected ? new : state
    }
  }

  private func ghost(_ v: HistoryValue, before position: Int) -> Bool {
    guard !ghosts.isEmpty, let from = ghosts[v] else { return false }
    return from < position
  }
}

/// `register` (read, write) and `cas-register` (read, write, cas).
struct RegisterModel: HistoryModel {
  var kind: ModelKind
  var initial: HistoryValue = .null

  func input(for op: ClientOperation) throws(ModelMismatch) -> RegisterInput? {
    let known = op.outcome == .ok
    switch op.f {
    case "read":
      guard known, let v = op.result else { return nil }
      return .read(v)
    case "write":
      return .write(op.argument)
    case "cas" where kind == .casRegister:
      guard case .array(let pair) = op.argument, pair.count == 2 else {
        throw ModelMismatch("cas takes [expected, new], not \(op.argument.json)")
      }
      return known ? .cas(expected: pair[0], new: pair[1]) : .maybeCAS(expected: pair[0], new: pair[1])
    case "cas":
      throw ModelMismatch("cas is not an operation of a register; check with --model cas-register")
    default:
      throw ModelMismatch("\(op.f) is not an operation of a \(kind.rawValue) (its operations are \(kind.operationNames))")
    }
  }

  func partition(of op: ClientOperation) -> String? { nil }

  func describe(_ state: HistoryValue) -> String { state.json }

  /// Pairs are a few words each (register states are few and shared).
  var narrowingMemo: Int { 400_000 }

  func observes(_ input: RegisterInput) -> Bool {
    if case .read = input { return true }
    return false
  }

  func unknown(_ input: RegisterInput) -> RegisterInput {
    if case .cas(let e, let n) = input { return .maybeCAS(expected: e, new: n) }
    return input
  }

  /// Relaxed writes become ghosts rather than operations: the value may
  /// appear at any moment after the write's invoke, as often as needed.
  /// That is looser than "once, or never" (so still sound) and it keeps the
  /// search as small as the operations kept, whereas each relaxed operation
  /// kept in the search could double it.
  func search(kept: [SearchOp<RegisterInput>], relaxed: [SearchOp<RegisterInput>]) -> Search<RegisterSpec> {
    var ghosts: [HistoryValue: Int] = [:]
    func add(_ v: HistoryValue, from: Int) -> Bool {
      if let f = ghosts[v], f <= from { return false }
      ghosts[v] = from
      return true
    }
    for op in relaxed {
      switch op.input {
      case .read: break
      case .write(let v): _ = add(v, from: op.call)
      case .cas(_, let n), .maybeCAS(_, let n): _ = add(n, from: op.call)
      }
    }
    // A kept cas of unknown outcome may follow a ghost of its expected value.
    var changed = !ghosts.isEmpty
    while changed {
      changed = false
      for op in kept {
        if case .maybeCAS(let e, let n) = op.input, let from = ghosts[e] {
          changed = add(n, from: max(from, op.call)) || changed
        }
      }
    }
    return Search(spec: RegisterSpec(initial: initial, ghosts: ghosts), ops: kept)
  }
}

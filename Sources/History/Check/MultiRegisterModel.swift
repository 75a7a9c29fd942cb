/// A multi-register transaction, typed: its micro-operations in order. A
/// read's `nil` value reads anything (Knossos: "nil reads are always legal").
struct MultiRegisterInput: Sendable, Hashable {
  enum Step: Sendable, Hashable {
    case read(key: String, value: HistoryValue?)
    case write(key: String, value: HistoryValue)
  }
  var steps: [Step]

  /// The same writes, every read unconstrained.
  var blind: MultiRegisterInput {
    MultiRegisterInput(
      steps: steps.map { step in
        if case .read(let k, _) = step { return .read(key: k, value: nil) }
        return step
      })
  }
}

/// Knossos's `multi-register`: registers by key, all in one state, each
/// `null` until written (or as `--initial-value` sets it).
struct MultiRegisterSpec: SequentialSpec {
  var initial: [String: HistoryValue]

  func apply(_ op: SearchOp<MultiRegisterInput>, to state: [String: HistoryValue]) -> [String: HistoryValue]? {
    var s = state
    for step in op.input.steps {
      switch step {
      case .read(let k, let v?): if (s[k] ?? .null) != v { return nil }
      case .read: continue
      case .write(let k, let v): s[k] = v
      }
    }
    return s
  }
}

/// `multi-register`: `txn` operations whose value is `[[f, k, v], …]`, `f`
/// `read`/`r` or `write`/`w`. The completion's value holds what was read; a
/// transaction of unknown outcome constrains no read and may write.
struct MultiRegisterModel: HistoryModel {
  var initial: [String: HistoryValue] = [:]
  var kind: ModelKind { .multiRegister }

  /// `--initial-value` for multi-register: an object of keys to values.
  static func initialState(_ value: HistoryValue?, file: String) throws(HistoryError) -> [String: HistoryValue] {
    switch value {
    case nil, .null?: return [:]
    case .object(let o)?: return o
    case let other?:
      throw HistoryError(
        file: file, problems: [.init(line: 0, message: "a multi-register starts from an object of keys to values, not \(other.json)")])
    }
  }

  /// A key as the state names it: a string as itself, anything else as JSON
  /// (so `0` in a micro-operation and `"0"` in an initial object are one key).
  static func key(_ k: HistoryValue) -> String { k.string ?? k.json }

  func input(for op: ClientOperation) throws(ModelMismatch) -> MultiRegisterInput? {
    guard op.f == "txn" else { throw ModelMismatch("\(op.f) is not an operation of a multi-register (its operations are txn)") }
    let value = op.outcome == .ok ? (op.result ?? op.argument) : op.argument
    guard case .array(let mops) = value else { throw ModelMismatch("txn of \(value.json); a txn is a list of [f, k, v]") }
    var steps: [MultiRegisterInput.Step] = []
    for mop in mops {
      guard case .array(let t) = mop, t.count == 3, let f = t[0].string else {
        throw ModelMismatch("micro-operation \(mop.json) is not [f, k, v]")
      }
      switch f {
      case "read", "r": steps.append(.read(key: Self.key(t[1]), value: op.outcome == .ok && t[2] != .null ? t[2] : nil))
      case "write", "w": steps.append(.write(key: Self.key(t[1]), value: t[2]))
      default: throw ModelMismatch("micro-operation \(f) is not read or write")
      }
    }
    return MultiRegisterInput(steps: steps)
  }

  func partition(of op: ClientOperation) -> String? { nil }

  func describe(_ state: [String: HistoryValue]) -> String { HistoryValue.object(state).json }

  var narrowingMemo: Int { 200_000 }

  func observes(_ input: MultiRegisterInput) -> Bool {
    input.steps.allSatisfy { if case .read = $0 { return true } else { return false } }
  }

  func unknown(_ input: MultiRegisterInput) -> MultiRegisterInput { input.blind }

  func search(kept: [SearchOp<MultiRegisterInput>], relaxed: [SearchOp<MultiRegisterInput>]) -> Search<MultiRegisterSpec> {
    let loose = relaxed.compactMap { op -> SearchOp<MultiRegisterInput>? in
      observes(op.input) ? nil : SearchOp(id: op.id, input: op.input.blind, call: op.call, ret: SearchOp<MultiRegisterInput>.never)
    }
    return Search(spec: MultiRegisterSpec(initial: initial), ops: (kept + loose).sorted { $0.call < $1.call })
  }
}

/// A key's operations, typed.
enum KVInput: Sendable, Hashable {
  /// A get that returned the string.
  case get(String)
  case put(String)
  case append(String)
}

/// One key: a string that starts empty.
struct KVSpec: SequentialSpec {
  var initial: String { "" }

  func apply(_ op: SearchOp<KVInput>, to state: String) -> String? {
    switch op.input {
    case .get(let s): return state == s ? state : nil
    case .put(let v): return v
    case .append(let v): return state + v
    }
  }
}

/// Independent keys (`get`, `put`, `append`), each checked alone.
struct KVModel: HistoryModel {
  var kind: ModelKind { .kv }

  func input(for op: ClientOperation) throws(ModelMismatch) -> KVInput? {
    guard op.key != nil else { throw ModelMismatch("\(op.f) has no \"key\"; kv operations name the key they act on") }
    switch op.f {
    case "get":
      guard op.outcome == .ok, let v = op.result else { return nil }
      guard let s = v.string else { throw ModelMismatch("get returned \(v.json); kv values are strings") }
      return .get(s)
    case "put", "append":
      guard let s = op.argument.string else { throw ModelMismatch("\(op.f) of \(op.argument.json); kv values are strings") }
      return op.f == "put" ? .put(s) : .append(s)
    default:
      throw ModelMismatch("\(op.f) is not an operation of kv (its operations are get, put and append)")
    }
  }

  func partition(of op: ClientOperation) -> String? { op.key }

  func describe(_ state: String) -> String { HistoryValue.quote(state) }

  /// Each new state is a string as long as everything appended so far.
  var narrowingMemo: Int { 50_000 }

  func observes(_ input: KVInput) -> Bool {
    if case .get = input { return true }
    return false
  }

  func unknown(_ input: KVInput) -> KVInput { input }

  /// Appends of distinct tokens and gets: decided in polynomial time (``AppendOrder``).
  func shortcut(_ ops: [SearchOp<KVInput>]) -> [Int]? { AppendOrder.linearization(ops) }

  /// Relaxed puts and appends stay in the search with an unknown outcome,
  /// except those no kept get could show: a string that is part of no get's
  /// result never reached a get, so dropping it changes no verdict.
  func search(kept: [SearchOp<KVInput>], relaxed: [SearchOp<KVInput>]) -> Search<KVSpec> {
    let seen = kept.compactMap { op -> String? in
      if case .get(let s) = op.input { return s }
      return nil
    }
    var ops = kept
    for op in relaxed {
      switch op.input {
      case .get: continue
      case .put(let v), .append(let v):
        if !v.isEmpty, !seen.contains(where: { $0.contains(v) }) { continue }
        ops.append(SearchOp(id: op.id, input: op.input, call: op.call, ret: SearchOp<KVInput>.never))
      }
    }
    return Search(spec: KVSpec(), ops: ops)
  }
}

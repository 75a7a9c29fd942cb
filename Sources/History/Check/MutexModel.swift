/// A lock's operations, typed.
enum MutexInput: Sendable, Hashable {
  case acquire
  case release
  /// Of unknown outcome: it takes the lock if it is free, else it never
  /// happened (which it may not have: the search can place it at the end).
  case maybeAcquire
  case maybeRelease
}

/// Knossos's `mutex`: one lock that starts free (the state: whether it is held).
struct MutexSpec: SequentialSpec {
  var initial: Bool { false }

  func apply(_ op: SearchOp<MutexInput>, to held: Bool) -> Bool? {
    switch op.input {
    case .acquire: return held ? nil : true
    case .release: return held ? false : nil
    case .maybeAcquire: return true
    case .maybeRelease: return false
    }
  }
}

/// `mutex`: `acquire` and `release`, checked for linearizability against a
/// lock that starts free. A failed operation did nothing (Knossos drops it
/// too); one of unknown outcome may have taken effect, or not.
struct MutexModel: HistoryModel {
  var kind: ModelKind { .mutex }

  func input(for op: ClientOperation) throws(ModelMismatch) -> MutexInput? {
    switch op.f {
    case "acquire": return .acquire
    case "release": return .release
    default: throw ModelMismatch("\(op.f) is not an operation of a mutex (its operations are acquire and release)")
    }
  }

  func partition(of op: ClientOperation) -> String? { nil }

  func describe(_ held: Bool) -> String { held ? "held" : "free" }

  var narrowingMemo: Int { 400_000 }

  /// Both change the lock: neither only observes.
  func observes(_ input: MutexInput) -> Bool { false }

  /// A maybe-acquire on a held lock, placed anywhere, changes nothing: that is
  /// the operation never taking effect. On a free lock it takes it, which the
  /// search may put off to the end, where it changes no verdict.
  func unknown(_ input: MutexInput) -> MutexInput {
    switch input {
    case .acquire, .maybeAcquire: return .maybeAcquire
    case .release, .maybeRelease: return .maybeRelease
    }
  }

  func search(kept: [SearchOp<MutexInput>], relaxed: [SearchOp<MutexInput>]) -> Search<MutexSpec> {
    let loose = relaxed.map { SearchOp(id: $0.id, input: unknown($0.input), call: $0.call, ret: SearchOp<MutexInput>.never) }
    return Search(spec: MutexSpec(), ops: (kept + loose).sorted { $0.call < $1.call })
  }
}

/// The sequential objects a history can be checked against.
public enum ModelKind: String, Sendable, Hashable, CaseIterable {
  /// One register: `read`, `write`. It starts as `null`.
  case register
  /// One register with compare-and-set: `read`, `write`, `cas` (`[expected, new]`).
  case casRegister = "cas-register"
  /// Independent string registers by `key`: `get`, `put`, `append`. Each starts as `""`.
  case kv
  /// Knossos's lock: `acquire` (it must be free), `release` (it must be held). It starts free.
  case mutex
  /// Knossos's registers by key, changed together: `txn` of `[f, k, v]`
  /// micro-operations, `read` (or `r`; a `null` value reads anything) and `write` (or `w`).
  case multiRegister = "multi-register"

  /// The model a history's operations call for when none is named: `kv`
  /// when they use keys or kv operations, else `cas-register` (which judges
  /// reads and writes exactly as `register` does).
  public static func inferred(from operations: [ClientOperation]) -> ModelKind {
    operations.contains { $0.key != nil || ["get", "put", "append"].contains($0.f) } ? .kv : .casRegister
  }

  /// What the model's operations are, for messages.
  var operationNames: String {
    switch self {
    case .register: return "read and write"
    case .casRegister: return "read, write and cas"
    case .kv: return "get, put and append"
    case .mutex: return "acquire and release"
    case .multiRegister: return "txn"
    }
  }
}

/// How a model reads a history's operations and builds its searches.
protocol HistoryModel: Sendable {
  associatedtype Spec: SequentialSpec
  var kind: ModelKind { get }
  /// The operation as the model's input; nil when it constrains nothing (a
  /// read whose result is unknown). Throws what is wrong with its shape.
  func input(for op: ClientOperation) throws(ModelMismatch) -> Spec.Input?
  /// The independent object an operation acts on (P-compositionality: each
  /// is checked alone), nil for a single object.
  func partition(of op: ClientOperation) -> String?
  /// Whether the input only observes (relaxing it removes it).
  func observes(_ input: Spec.Input) -> Bool
  /// What the input does when its outcome is unknown.
  func unknown(_ input: Spec.Input) -> Spec.Input
  /// A search over `kept` in which each of `relaxed` may take effect at any
  /// time after its invoke, or never, and its result constrains nothing:
  /// a history with fewer constraints, so if it cannot be linearized
  /// neither can the one it came from. A model may relax further than that
  /// (still sound), to keep the search small.
  func search(kept: [SearchOp<Spec.Input>], relaxed: [SearchOp<Spec.Input>]) -> Search<Spec>
  /// How many (set, state) pairs each search of the narrowing may hold
  /// (``Witness``): what bounds its memory.
  var narrowingMemo: Int { get }
  /// A state as a person reads it: `null`, `3`, `"ab"`.
  func describe(_ state: Spec.State) -> String
  /// A linearization (ids) found without the search, when the model has a
  /// faster decision for this part; nil to search.
  func shortcut(_ ops: [SearchOp<Spec.Input>]) -> [Int]?
}

extension HistoryModel {
  func shortcut(_ ops: [SearchOp<Spec.Input>]) -> [Int]? { nil }
}

/// An operation the model has no place for, or whose value has the wrong shape.
struct ModelMismatch: Error {
  var message: String
  init(_ message: String) { self.message = message }
}

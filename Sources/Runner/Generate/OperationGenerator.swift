import History
import Manifest
import Orchestrator

/// The operations of a workload, drawn from a seed: the same workload and
/// seed give the same sequence (the workers take them in turn, so which
/// worker gets which may differ from run to run, as in Jepsen).
///
/// - register, cas-register: read, write of 0…4, cas `[expected, new]`;
/// - kv: get, put of a unique string, on keys `k0`…;
/// - set: adds of unique integers from 0 (reads only when `mix` asks);
/// - list-append: Elle's transactions (``ListAppendKeys``);
/// - bank: transfers of 1…5 between accounts 0…keys-1, reads of all;
/// - counter: adds of 1…5, reads.
public struct OperationGenerator: Sendable {
  public let kind: GeneratorKind
  public let keys: Int
  private var random: SeededGenerator
  private let weights: [(f: String, weight: Int)]
  private let totalWeight: Int
  /// The next unique value (set adds, kv puts).
  private var counter: Int64 = 0
  private var lists: ListAppendKeys

  public init(kind: GeneratorKind, keys: Int = 1, mix: [String: Int] = [:], seed: UInt64) {
    self.kind = kind
    self.keys = max(1, keys)
    random = SeededGenerator(seed: seed)
    let table = mix.isEmpty ? Self.defaultMix(kind) : kind.operations.map { ($0, mix[$0] ?? 0) }
    weights = table.filter { $0.1 > 0 }
    totalWeight = weights.reduce(0) { $0 + $1.weight }
    lists = ListAppendKeys(active: self.keys)
  }

  public init(workload w: Workload, seed: UInt64) {
    self.init(kind: w.generator, keys: w.keys, mix: w.mix, seed: seed)
  }

  /// The mix when the workload gives none: every operation alike, but sets
  /// are only added to (their read is the final one).
  static func defaultMix(_ kind: GeneratorKind) -> [(String, Int)] {
    kind == .set ? [("add", 1)] : kind.operations.map { ($0, 1) }
  }

  private mutating func pick() -> String {
    var r = Int.random(in: 0..<totalWeight, using: &random)
    for (f, w) in weights {
      if r < w { return f }
      r -= w
    }
    return weights[weights.count - 1].f
  }

  private mutating func small() -> Int64 { Int64.random(in: 0..<5, using: &random) }
  private mutating func key() -> String { "k\(Int.random(in: 0..<keys, using: &random))" }
  private mutating func unique() -> Int64 {
    defer { counter += 1 }
    return counter
  }

  public mutating func next() -> Invocation {
    let f = pick()
    switch (kind, f) {
    case (.register, "write"), (.casRegister, "write"): return Invocation(f: f, value: .int(small()))
    case (.casRegister, "cas"): return Invocation(f: f, value: .array([.int(small()), .int(small())]))
    case (.kv, "put"): return Invocation(f: f, key: key(), value: .string(String(unique())))
    case (.kv, "get"): return Invocation(f: f, key: key())
    case (.set, "add"): return Invocation(f: f, value: .int(unique()))
    case (.counter, "add"): return Invocation(f: f, value: .int(Int64.random(in: 1...5, using: &random)))
    case (.bank, "transfer"):
      let from = Int64.random(in: 0..<Int64(keys), using: &random)
      var to = Int64.random(in: 0..<Int64(max(1, keys - 1)), using: &random)
      if keys > 1, to >= from { to += 1 }
      return Invocation(
        f: f, value: .object(["from": .int(from), "to": .int(to), "amount": .int(Int64.random(in: 1...5, using: &random))]))
    case (.listAppend, _): return Invocation(f: "txn", value: lists.transaction(using: &random))
    default: return Invocation(f: f)
    }
  }

  /// The reads after the heal: each object's final state, once.
  public func finalReads() -> [Invocation] {
    switch kind {
    case .register, .casRegister, .set, .bank, .counter: [Invocation(f: "read")]
    case .kv: (0..<keys).map { Invocation(f: "get", key: "k\($0)") }
    case .listAppend: lists.activeKeys.map { Invocation(f: "txn", value: .array([.array([.string("r"), .int($0), .null])])) }
    }
  }
}

/// Elle's list-append keys: `active` keys in use at once, each retired
/// after ``maxAppends`` appends and replaced by a fresh one, so lists stay
/// short and every key's history is small; values appended to a key are
/// unique (1, 2, 3, … per key).
struct ListAppendKeys: Sendable {
  static let maxAppends = 32
  static let maxLength = 4
  private(set) var activeKeys: [Int64]
  private var appended: [Int64: Int64] = [:]
  private var nextKey: Int64

  init(active: Int) {
    activeKeys = (0..<Int64(active)).map { $0 }
    nextKey = Int64(active)
  }

  /// 1–4 micro-operations, each a read (`["r", k, null]`) or an append (`["append", k, v]`) of a random active key.
  mutating func transaction(using random: inout SeededGenerator) -> HistoryValue {
    let length = Int.random(in: 1...Self.maxLength, using: &random)
    var micro: [HistoryValue] = []
    for _ in 0..<length {
      let slot = Int.random(in: 0..<activeKeys.count, using: &random)
      let k = activeKeys[slot]
      if Bool.random(using: &random) {
        micro.append(.array([.string("r"), .int(k), .null]))
      } else {
        let v = (appended[k] ?? 0) + 1
        appended[k] = v
        micro.append(.array([.string("append"), .int(k), .int(v)]))
        if v >= Int64(Self.maxAppends) {
          appended[k] = nil
          activeKeys[slot] = nextKey
          nextKey += 1
        }
      }
    }
    return .array(micro)
  }
}

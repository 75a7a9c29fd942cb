/// Large list-append histories of a simulated store, for tests and benchmarks.
///
/// Clients (processes) run transactions of a few appends and reads over a
/// pool of keys, several at once: each transaction is invoked, and takes
/// effect atomically when it completes, so the store is strictly
/// serializable. An injected anomaly breaks that in one known way.
public struct ListAppendGenerator: Sendable {
  public enum Injected: String, Sendable, CaseIterable {
    /// None: the history is strictly serializable.
    case none
    /// One late transaction reads every key as it was before the history began (G-single or G2, real-time).
    case staleRead = "stale-read"
    /// A failed transaction's append is seen by a later read (G1a).
    case abortedRead = "aborted-read"
  }

  public var transactions = 1000
  public var processes = 10
  public var keys = 100
  public var seed: UInt64 = 1
  public var anomaly: Injected = .none
  /// Appends to a key before it is retired.
  public var maxWrites: Int64 = 100

  public init(transactions: Int = 1000, processes: Int = 10, keys: Int = 100, seed: UInt64 = 1, anomaly: Injected = .none) {
    (self.transactions, self.processes, self.keys, self.seed, self.anomaly) = (transactions, processes, keys, seed, anomaly)
  }

  /// A deterministic generator (splitmix64), so a seed names a history.
  struct Random {
    var state: UInt64
    mutating func next(_ n: Int) -> Int {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Int((z ^ (z >> 31)) % UInt64(n))
    }
  }

  /// The events, invokes and completions interleaved as the clients ran.
  public func events() -> [HistoryEvent] {
    var random = Random(state: seed)
    // `keys` keys are in use at a time; one that has had `maxWrites` appends is retired for a fresh
    // one (as Elle's generator does), so lists stay short.
    var store: [[Int64]] = []
    var slot = Array(0..<keys)
    store = [[Int64]](repeating: [], count: keys)
    var nextElement = [Int64](repeating: 1, count: keys)
    var pending: [(process: Int, mops: [MicroOp], fails: Bool)?] = Array(repeating: nil, count: processes)
    var events: [HistoryEvent] = []
    events.reserveCapacity(transactions * 2)
    var started = 0
    var clock: UInt64 = 0
    let staleAt = transactions * 3 / 4
    let abortAt = transactions / 2
    var abortedElement: (key: Int, element: Int64)?
    var staleDone = false
    var abortInjected = false
    func value(_ mops: [MicroOp]) -> HistoryValue { .array(mops.map { .array([.string($0.kind.rawValue), $0.key, $0.value]) }) }
    while started < transactions || pending.contains(where: { $0 != nil }) {
      clock += 1000
      let p = random.next(processes)
      if let (process, mops, fails) = pending[p] {
        // Complete: the transaction takes effect now, atomically.
        var done: [MicroOp] = []
        let stale = anomaly == .staleRead && !staleDone && events.count / 2 >= staleAt && mops.contains { $0.kind == .read }
        if stale { staleDone = true }
        for m in mops {
          guard case .int(let k) = m.key else { continue }
          if m.kind == .append {
            if !fails, case .int(let e) = m.value { store[Int(k)].append(e) }
            done.append(m)
          } else {
            let list = stale ? [] : store[Int(k)]
            done.append(MicroOp(kind: .read, key: m.key, value: .array(list.map(HistoryValue.int))))
          }
        }
        if fails, anomaly == .abortedRead, abortedElement == nil, let a = mops.first(where: { $0.kind == .append }),
          case .int(let k) = a.key, case .int(let e) = a.value
        {
          // The store keeps the failed append after all.
          store[Int(k)].append(e)
          abortedElement = (Int(k), e)
        }
        events.append(HistoryEvent(process: process, type: fails ? .fail : .ok, f: "txn", value: value(fails ? mops : done), time: clock))
        pending[p] = nil
        continue
      }
      guard started < transactions else { continue }
      var mops: [MicroOp] = []
      for _ in 0..<(1 + random.next(4)) {
        let i = random.next(keys)
        if nextElement[slot[i]] > maxWrites {
          slot[i] = store.count
          store.append([])
          nextElement.append(1)
        }
        let k = slot[i]
        if random.next(2) == 0 {
          mops.append(MicroOp(kind: .append, key: .int(Int64(k)), value: .int(nextElement[k])))
          nextElement[k] += 1
        } else {
          mops.append(MicroOp(kind: .read, key: .int(Int64(k)), value: .null))
        }
      }
      let fails = anomaly == .abortedRead && !abortInjected && started >= abortAt && mops.contains { $0.kind == .append }
      if fails { abortInjected = true }
      started += 1
      pending[p] = (p, mops, fails)
      events.append(HistoryEvent(process: p, type: .invoke, f: "txn", value: value(mops), time: clock))
    }
    return events
  }

  /// The history as JSON Lines.
  public func jsonLines() -> String {
    events().map(\.jsonLine).joined(separator: "\n") + "\n"
  }
}

/// Elle's list-append analysis (`elle.list_append`): keys hold lists,
/// transactions append unique elements and read whole lists. Every read of
/// a key is a prefix of its longest read, which gives the order of the
/// appends (the version order), and from it the dependencies:
/// - ww: T2 appended the element right after T1's;
/// - wr: T2 read a list whose last element T1 appended;
/// - rw: T1 read the list that T2's append extended (or the empty list T2's
///   append started).
/// An append never read is known only to come after the longest read.
struct ListAppend: PairExplainer {
  let txns: [Transaction]
  /// The ok and info transactions (Elle's `possible` ops): the graph's vertices.
  let vertices: [Int]
  /// Transaction index → vertex, -1 for failed ones.
  let vertexOf: [Int]
  /// Per key whose reads are not all prefixes of the longest: every distinct list read (ok and info reads), shortest first.
  var sortedValues: [HistoryValue: [[HistoryValue]]] = [:]
  /// Per key: the version order (the longest read, elements deduplicated).
  var order: [HistoryValue: [HistoryValue]] = [:]
  /// Per key: the length of the longest read, before duplicates are dropped.
  var longestLength: [HistoryValue: Int] = [:]
  /// Keys as numbers, in the order first seen: each key's tables are a slot of `tables`, so a
  /// micro-op hashes its key once, not once per table.
  var keyIndex: [HistoryValue: Int] = [:]
  var tables: [KeyTables] = []

  struct KeyTables {
    /// Per element: the transaction that appended it (any outcome).
    var writer: [HistoryValue: Int] = [:]
    /// Per element read last (nil: the empty list): the ok and info transactions that read it.
    var readers: [HistoryValue?: [Int]] = [:]
    /// The version order, and each element's place in it.
    var order: [HistoryValue] = []
    var position: [HistoryValue: Int] = [:]
    /// While reading: the non-empty lists read, and the appends of ok and info transactions.
    var reads: [[HistoryValue]] = []
    var appends = 0
    var lastAppend: HistoryValue = .null
  }

  struct Problem: Error { var message: String }

  init(_ txns: [Transaction]) throws(Problem) {
    self.txns = txns
    var vertexOf = [Int](repeating: -1, count: txns.count)
    var vertices: [Int] = []
    for (i, t) in txns.enumerated() where t.outcome != .fail {
      vertexOf[i] = vertices.count
      vertices.append(i)
    }
    self.vertices = vertices
    self.vertexOf = vertexOf
    for (i, t) in txns.enumerated() {
      for m in t.mops {
        let k = slot(m.key)
        switch m.kind {
        case .append:
          // Elle refuses a history that appends the same element to a key twice.
          guard tables[k].writer.updateValue(i, forKey: m.value) == nil else {
            throw Problem(
              message:
                "element \(MicroOp.edn(m.value)) is appended to key \(MicroOp.edn(m.key)) more than once (line \(t.line)): list-append needs unique elements"
            )
          }
          if t.outcome != .fail {
            tables[k].appends += 1
            tables[k].lastAppend = m.value
          }
        case .read:
          guard t.outcome != .fail else { continue }
          let list: [HistoryValue]
          switch m.value {
          case .null:
            // An info transaction's nil is the value it was invoked with, not a read.
            if t.outcome == .info { continue }
            list = []
          case .array(let a): list = a
          default: throw Problem(message: "a list-append read must return a list, not \(m.value.json) (line \(t.line))")
          }
          tables[k].readers[list.last, default: []].append(i)
          if !list.isEmpty { tables[k].reads.append(list) }
        case .write:
          throw Problem(message: "list-append transactions hold :append and :r micro-ops, not :w (line \(t.line))")
        }
      }
    }
    for (key, k) in keyIndex {
      // A key appended once and never read went from [] to [v].
      if tables[k].appends == 1, tables[k].reads.isEmpty { tables[k].reads = [[tables[k].lastAppend]] }
      let lists = tables[k].reads
      tables[k].reads = []
      guard !lists.isEmpty else { continue }
      // Every read is a prefix of the longest exactly when, sorted by length, each is a prefix of
      // the next (Elle's check); only a key where that fails needs the sorted distinct reads.
      var longest = lists[0]
      for l in lists where l.count > longest.count { longest = l }
      if !lists.allSatisfy({ Self.isPrefix($0, of: longest) }) {
        let sorted = Set(lists).sorted(by: Self.shorterFirst)
        sortedValues[key] = sorted
        longest = sorted.last!
      }
      longestLength[key] = longest.count
      var seen = Set<HistoryValue>()
      longest = longest.filter { seen.insert($0).inserted }
      order[key] = longest
      tables[k].order = longest
      for (p, e) in longest.enumerated() { tables[k].position[e] = p }
    }
  }

  /// The key's number, a new one (and its tables) for a key not seen before.
  private mutating func slot(_ key: HistoryValue) -> Int {
    if let k = keyIndex[key] { return k }
    keyIndex[key] = tables.count
    tables.append(KeyTables())
    return tables.count - 1
  }

  /// The transaction that appended element `e` to `key` (any outcome).
  func writer(_ key: HistoryValue, _ e: HistoryValue) -> Int? {
    guard let k = keyIndex[key] else { return nil }
    return tables[k].writer[e]
  }

  /// Whether `a` is a prefix of `b`; integers (the usual elements) compared without `HistoryValue`'s `==`.
  static func isPrefix(_ a: [HistoryValue], of b: [HistoryValue]) -> Bool {
    guard a.count <= b.count else { return false }
    return a.withUnsafeBufferPointer { x in
      b.withUnsafeBufferPointer { y in
        for i in x.indices {
          if case .int(let p) = x[i], case .int(let q) = y[i] {
            if p != q { return false }
          } else if x[i] != y[i] {
            return false
          }
        }
        return true
      }
    }
  }

  /// Shorter lists first; lists of one length in the order of their elements' JSON (so reports are stable).
  static func shorterFirst(_ a: [HistoryValue], _ b: [HistoryValue]) -> Bool {
    if a.count != b.count { return a.count < b.count }
    let x: [String] = a.map(\.json)
    let y: [String] = b.map(\.json)
    return x.lexicographicallyPrecedes(y)
  }

  /// The element appended just before `m` (nil: `m` was the first append),
  /// known exactly or only as "after the longest read".
  func previous(_ m: MicroOp) -> HistoryValue? {
    guard let k = keyIndex[m.key] else { return nil }
    return previous(k, m.value)
  }

  private func previous(_ k: Int, _ e: HistoryValue) -> HistoryValue? {
    if let p = tables[k].position[e] { return p > 0 ? tables[k].order[p - 1] : nil }
    return tables[k].order.last
  }

  /// The writer of element `e` of key number `k` when it is a vertex (ok or info).
  private func vertexWriter(_ k: Int, _ e: HistoryValue) -> Int? {
    guard let t = tables[k].writer[e], vertexOf[t] >= 0 else { return nil }
    return t
  }

  /// The ww, wr and rw edges between vertices.
  func edges(into g: inout DependencyGraph.Builder) {
    for (v, i) in vertices.enumerated() {
      for m in txns[i].mops {
        guard let k = keyIndex[m.key] else { continue }
        switch m.kind {
        case .read:
          guard case .array(let list) = m.value, let last = list.last, let w = vertexWriter(k, last), w != i else { continue }
          g.link(vertexOf[w], v, .wr)
        case .append:
          let prev = previous(k, m.value)
          if let prev, let w = vertexWriter(k, prev), w != i { g.link(vertexOf[w], v, .ww) }
          for r in tables[k].readers[prev] ?? [] where r != i { g.link(vertexOf[r], v, .rw) }
        case .write: continue
        }
      }
    }
  }

  func explain(_ a: Transaction, _ b: Transaction, _ rel: Rels, _ aName: String, _ bName: String) -> Explanation {
    if let order = explainOrder(a, b, rel, aName, bName) { return order }
    let ta = a.id
    for m in b.mops {
      switch (rel, m.kind) {
      case (.wr, .read):
        if case .array(let list) = m.value, let last = list.last, writer(m.key, last) == ta {
          return Explanation(
            because: "\(bName) observed \(aName)'s append of \(MicroOp.edn(last)) to key \(MicroOp.edn(m.key))", key: m.key, value: last)
        }
      case (.ww, .append):
        if let prev = previous(m), writer(m.key, prev) == ta {
          return Explanation(
            because: "\(bName) appended \(MicroOp.edn(m.value)) after \(aName) appended \(MicroOp.edn(prev)) to \(MicroOp.edn(m.key))", key: m.key,
            value: m.value)
        }
      case (.rw, .append):
        let prev = previous(m)
        if let k = keyIndex[m.key], tables[k].readers[prev]?.contains(ta) == true {
          let because =
            prev == nil
            ? "\(aName) observed the initial (nil) state of \(MicroOp.edn(m.key)), which \(bName) created by appending \(MicroOp.edn(m.value))"
            : "\(aName) did not observe \(bName)'s append of \(MicroOp.edn(m.value)) to \(MicroOp.edn(m.key))"
          return Explanation(because: because, key: m.key, value: m.value)
        }
      default: continue
      }
    }
    return Explanation(because: "\(aName) precedes \(bName)")
  }
}

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
  /// Per key: the version order (the longest read, elements deduplicated) and each element's place in it.
  var order: [HistoryValue: [HistoryValue]] = [:]
  var position: [HistoryValue: [HistoryValue: Int]] = [:]
  /// Per key: the length of the longest read, before duplicates are dropped.
  var longestLength: [HistoryValue: Int] = [:]
  /// Per key and element: the transaction that appended it (any outcome, the last one seen).
  var writer: [HistoryValue: [HistoryValue: Int]] = [:]
  /// Per key and element read last (nil: the empty list): the ok and info transactions that read it.
  var readers: [HistoryValue: [HistoryValue?: [Int]]] = [:]

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
    var appendCount: [HistoryValue: (count: Int, value: HistoryValue)] = [:]
    var read: [HistoryValue: [[HistoryValue]]] = [:]
    for (i, t) in txns.enumerated() {
      for m in t.mops {
        switch m.kind {
        case .append:
          // Elle refuses a history that appends the same element to a key twice.
          guard writer[m.key, default: [:]].updateValue(i, forKey: m.value) == nil else {
            throw Problem(
              message:
                "element \(MicroOp.edn(m.value)) is appended to key \(MicroOp.edn(m.key)) more than once (line \(t.line)): list-append needs unique elements"
            )
          }
          if t.outcome != .fail { appendCount[m.key] = ((appendCount[m.key]?.count ?? 0) + 1, m.value) }
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
          readers[m.key, default: [:]][list.last, default: []].append(i)
          if !list.isEmpty { read[m.key, default: []].append(list) }
        case .write:
          throw Problem(message: "list-append transactions hold :append and :r micro-ops, not :w (line \(t.line))")
        }
      }
    }
    // A key appended once and never read went from [] to [v].
    for (k, c) in appendCount where c.count == 1 && read[k] == nil { read[k] = [[c.value]] }
    for (k, lists) in read {
      // Every read is a prefix of the longest exactly when, sorted by length, each is a prefix of
      // the next (Elle's check); only a key where that fails needs the sorted distinct reads.
      var longest = lists[0]
      for l in lists where l.count > longest.count { longest = l }
      if !lists.allSatisfy({ Self.isPrefix($0, of: longest) }) {
        let sorted = Set(lists).sorted(by: Self.shorterFirst)
        sortedValues[k] = sorted
        longest = sorted.last!
      }
      longestLength[k] = longest.count
      var seen = Set<HistoryValue>()
      longest = longest.filter { seen.insert($0).inserted }
      order[k] = longest
      var index: [HistoryValue: Int] = [:]
      for (p, e) in longest.enumerated() { index[e] = p }
      position[k] = index
    }
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
  /// and whether that is known exactly or only as "after the longest read".
  func previous(_ m: MicroOp) -> HistoryValue? {
    let values = order[m.key] ?? []
    if let p = position[m.key]?[m.value] { return p > 0 ? values[p - 1] : nil }
    return values.last
  }

  /// The writer of element `e` of key `k` when it is a vertex (ok or info).
  func vertexWriter(_ k: HistoryValue, _ e: HistoryValue) -> Int? {
    guard let t = writer[k]?[e], vertexOf[t] >= 0 else { return nil }
    return t
  }

  /// The ww, wr and rw edges between vertices.
  func edges(into g: inout DependencyGraph.Builder) {
    for (v, i) in vertices.enumerated() {
      for m in txns[i].mops {
        switch m.kind {
        case .read:
          guard case .array(let list) = m.value, let last = list.last, let w = vertexWriter(m.key, last), w != i else { continue }
          g.link(vertexOf[w], v, .wr)
        case .append:
          let prev = previous(m)
          if let prev, let w = vertexWriter(m.key, prev), w != i { g.link(vertexOf[w], v, .ww) }
          for r in readers[m.key]?[prev] ?? [] where r != i { g.link(vertexOf[r], v, .rw) }
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
        if case .array(let list) = m.value, let last = list.last, writer[m.key]?[last] == ta {
          return Explanation(
            because: "\(bName) observed \(aName)'s append of \(MicroOp.edn(last)) to key \(MicroOp.edn(m.key))", key: m.key, value: last)
        }
      case (.ww, .append):
        if let prev = previous(m), writer[m.key]?[prev] == ta {
          return Explanation(
            because: "\(bName) appended \(MicroOp.edn(m.value)) after \(aName) appended \(MicroOp.edn(prev)) to \(MicroOp.edn(m.key))", key: m.key,
            value: m.value)
        }
      case (.rw, .append):
        let prev = previous(m)
        if readers[m.key]?[prev]?.contains(ta) == true {
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

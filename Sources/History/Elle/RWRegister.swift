/// Elle's rw-register analysis (`elle.rw_register`): keys hold one value,
/// transactions write unique values (`[:w k v]`) and read them (`[:r k v]`).
/// A read names the write it saw (wr), but the order of versions is only
/// partly known: nil comes before every value, and with the options, a
/// transaction's external read before its write of the same key
/// (`wfrKeys`), or the order of a key's versions along each process
/// (`sequentialKeys`) or along real time (`linearizableKeys`). A version
/// order with a cycle is `cyclic-versions`, and that inference is dropped.
/// From the order: ww between writers of successive versions, rw from the
/// readers of a version to the writers of the next.
struct RWRegister: PairExplainer {
  let txns: [Transaction]
  let vertices: [Int]
  let vertexOf: [Int]
  /// Per transaction: external reads (the first read of a key, before any write of it) and external (final) writes.
  let extReads: [[HistoryValue: HistoryValue]]
  let extWrites: [[HistoryValue: HistoryValue]]
  /// Per key: the version graph (nil is `.null`).
  private(set) var versions: [HistoryValue: [HistoryValue: Set<HistoryValue>]] = [:]
  private(set) var cyclic: [Anomaly] = []

  init(_ txns: [Transaction], options: TransactionCheckOptions) {
    self.txns = txns
    var vertexOf = [Int](repeating: -1, count: txns.count)
    var vertices: [Int] = []
    var reads: [[HistoryValue: HistoryValue]] = []
    var writes: [[HistoryValue: HistoryValue]] = []
    for (i, t) in txns.enumerated() {
      if t.outcome != .fail {
        vertexOf[i] = vertices.count
        vertices.append(i)
      }
      var r: [HistoryValue: HistoryValue] = [:]
      var w: [HistoryValue: HistoryValue] = [:]
      for m in t.mops {
        if m.kind == .write {
          w[m.key] = m.value
        } else if w[m.key] == nil, r[m.key] == nil {
          r[m.key] = m.value
        }
      }
      reads.append(t.outcome == .ok ? r : [:])
      writes.append(t.outcome == .fail ? [:] : w)
    }
    (self.vertices, self.vertexOf, extReads, extWrites) = (vertices, vertexOf, reads, writes)
    // Each source of version order in turn; one that makes a cycle is reported and left out.
    var sources: [(String, [HistoryValue: [HistoryValue: Set<HistoryValue>]])] = [("initial-state", initialState())]
    if options.wfrKeys { sources.append(("wfr-keys", writesFollowReads())) }
    if options.sequentialKeys { sources.append(("sequential-keys", alongOrder(.process))) }
    if options.linearizableKeys { sources.append(("linearizable-keys", alongOrder(.realtime))) }
    for (name, graph) in sources {
      var merged = versions
      for (k, g) in graph { for (a, bs) in g { merged[k, default: [:]][a, default: []].formUnion(bs) } }
      let cycles = Self.cycles(merged)
      if cycles.isEmpty {
        versions = merged
        continue
      }
      for (k, scc) in cycles {
        let vs = scc.map(MicroOp.edn).sorted()
        cyclic.append(
          Anomaly(
            type: "cyclic-versions",
            text: ["key \(MicroOp.edn(k)): versions \(Transaction.cut(vs.joined(separator: ", "), 60)) are ordered in a cycle (from \(name))"],
            data: .object(["key": k, "scc": .array(scc), "sources": .array([.string(name)])])))
      }
    }
  }

  private func initialState() -> [HistoryValue: [HistoryValue: Set<HistoryValue>]] {
    var g: [HistoryValue: [HistoryValue: Set<HistoryValue>]] = [:]
    for i in txns.indices {
      for (k, v) in extWrites[i].merging(extReads[i], uniquingKeysWith: { a, _ in a }) where v != .null {
        g[k, default: [:]][.null, default: []].insert(v)
      }
    }
    return g
  }

  private func writesFollowReads() -> [HistoryValue: [HistoryValue: Set<HistoryValue>]] {
    var g: [HistoryValue: [HistoryValue: Set<HistoryValue>]] = [:]
    for i in txns.indices {
      for (k, v) in extReads[i] where v != .null { if let w = extWrites[i][k] { g[k, default: [:]][v, default: []].insert(w) } }
    }
    return g
  }

  /// Along process or real-time order: a transaction's version of each key it
  /// touched precedes the version of the next transactions downstream that touched it.
  private func alongOrder(_ rel: Rels) -> [HistoryValue: [HistoryValue: Set<HistoryValue>]] {
    var b = DependencyGraph.Builder(count: vertices.count)
    TransactionChecks.orderEdges(txns, vertices, [rel], into: &b)
    let order = DependencyGraph(b)
    var g: [HistoryValue: [HistoryValue: Set<HistoryValue>]] = [:]
    for (va, a) in vertices.enumerated() {
      for k in Set(extReads[a].keys).union(extWrites[a].keys) {
        guard let v1 = txns[a].outcome == .ok ? (extWrites[a][k] ?? extReads[a][k]) : extWrites[a][k] else { continue }
        var seen: Set<Int> = [va]
        var todo = [va]
        while let x = todo.popLast() {
          for e in order.starts[x]..<order.starts[x + 1] where seen.insert(Int(order.targets[e])).inserted {
            let vb = Int(order.targets[e])
            let b = vertices[vb]
            let v2 = txns[b].outcome == .ok ? (extReads[b][k] ?? extWrites[b][k]) : extWrites[b][k]
            guard let v2 else {
              todo.append(vb)
              continue
            }
            if v2 != v1 { g[k, default: [:]][v1, default: []].insert(v2) }
          }
        }
      }
    }
    return g
  }

  /// Per key, the version cycles (components of two or more versions).
  static func cycles(_ graphs: [HistoryValue: [HistoryValue: Set<HistoryValue>]]) -> [(HistoryValue, [HistoryValue])] {
    var out: [(HistoryValue, [HistoryValue])] = []
    for (k, g) in graphs.sorted(by: { $0.key.json < $1.key.json }) {
      let values = Array(Set(g.keys).union(g.values.joined())).sorted { $0.json < $1.json }
      var index: [HistoryValue: Int] = [:]
      for (i, v) in values.enumerated() { index[v] = i }
      var b = DependencyGraph.Builder(count: values.count)
      for (a, bs) in g { for x in bs { b.link(index[a]!, index[x]!, .ww) } }
      for scc in DependencyGraph(b).components(.ww) { out.append((k, scc.map { values[$0] })) }
    }
    return out
  }

  func edges(into g: inout DependencyGraph.Builder) {
    var writers: [HistoryValue: [HistoryValue: [Int]]] = [:]
    var readers: [HistoryValue: [HistoryValue: [Int]]] = [:]
    for (v, i) in vertices.enumerated() where txns[i].outcome == .ok {
      for (k, x) in extWrites[i] { writers[k, default: [:]][x, default: []].append(v) }
      for (k, x) in extReads[i] { readers[k, default: [:]][x, default: []].append(v) }
    }
    for (k, byValue) in readers {
      for (x, rs) in byValue { if let ws = writers[k]?[x], ws.count == 1 { for r in rs { g.link(ws[0], r, .wr) } } }
    }
    for (k, graph) in versions {
      for (v1, next) in graph {
        for v2 in next {
          for w2 in writers[k]?[v2] ?? [] {
            for w1 in writers[k]?[v1] ?? [] { g.link(w1, w2, .ww) }
            for r1 in readers[k]?[v1] ?? [] { g.link(r1, w2, .rw) }
          }
        }
      }
    }
  }

  func nonCycleAnomalies() -> [Anomaly] {
    var out = cyclic
    var failed: [HistoryValue: [HistoryValue: Int]] = [:]
    var intermediate: [HistoryValue: [HistoryValue: Int]] = [:]
    for (i, t) in txns.enumerated() {
      var last: [HistoryValue: HistoryValue] = [:]
      for m in t.mops where m.kind == .write {
        if t.outcome == .fail { failed[m.key, default: [:]][m.value] = i }
        if let e = last[m.key] { intermediate[m.key, default: [:]][e] = i }
        last[m.key] = m.value
      }
    }
    for (i, t) in txns.enumerated() where t.outcome == .ok {
      var state: [HistoryValue: HistoryValue] = [:]
      var internalFound = false
      for m in t.mops {
        if m.kind == .write {
          state[m.key] = m.value
          continue
        }
        // The anomaly's data (the transaction as JSON) is made only for an anomaly.
        if let w = failed[m.key]?[m.value] {
          var d = ListAppend.mopData(t, m)
          d["writer"] = txns[w].json
          out.append(
            Anomaly(type: "G1a", text: ["\(t.name) read \(Transaction.cut(m.text, 60)), written by \(txns[w].name), which failed"], data: .object(d)))
        }
        if let w = intermediate[m.key]?[m.value], w != i {
          var d = ListAppend.mopData(t, m)
          d["writer"] = txns[w].json
          out.append(
            Anomaly(type: "G1b", text: ["\(t.name) read \(Transaction.cut(m.text, 60)), an intermediate write of \(txns[w].name)"], data: .object(d)))
        }
        if !internalFound, let s = state[m.key], s != m.value {
          internalFound = true
          var d = ListAppend.mopData(t, m)
          d["expected"] = s
          out.append(
            Anomaly(
              type: "internal", text: ["\(t.name) read \(Transaction.cut(m.text, 60)), but its own earlier micro-ops say \(MicroOp.edn(s))"],
              data: .object(d)))
        }
        state[m.key] = m.value
      }
    }
    return out + TransactionChecks.lostUpdates(txns, writes: .write)
  }

  func explain(_ a: Transaction, _ b: Transaction, _ rel: Rels, _ aName: String, _ bName: String) -> Explanation {
    if let order = explainOrder(a, b, rel, aName, bName) { return order }
    let (ea, eb) = (rel == .rw ? extReads[a.id] : extWrites[a.id], rel == .wr ? extReads[b.id] : extWrites[b.id])
    for (k, x) in ea.sorted(by: { $0.key.json < $1.key.json }) {
      guard let y = eb[k] else { continue }
      let (ks, xs, ys) = (MicroOp.edn(k), MicroOp.edn(x), MicroOp.edn(y))
      switch rel {
      case .wr where x == y: return Explanation(because: "\(aName) wrote \(ks) = \(xs), which was read by \(bName)", key: k, value: x)
      case .ww where versions[k]?[x]?.contains(y) == true:
        return Explanation(
          because: "\(aName) set key \(ks) to \(xs), and \(bName) set it to \(ys), which came later in the version order", key: k, value: y)
      case .rw where versions[k]?[x]?.contains(y) == true:
        return Explanation(
          because: "\(aName) read key \(ks) = \(xs), and \(bName) set it to \(ys), which came later in the version order", key: k, value: y)
      default: continue
      }
    }
    return Explanation(because: "\(aName) precedes \(bName)")
  }
}

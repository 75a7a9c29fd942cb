/// What a transaction check holds the history to, as Elle's options (spelt as elle-cli spells them).
public struct TransactionCheckOptions: Sendable {
  /// `--consistency-models`: the models the history must satisfy (empty: none, only `anomalies`).
  public var consistencyModels: [String] = ["strict-serializable"]
  /// `--anomalies`: anomalies to look for besides those the models rule out.
  public var anomalies: [String] = []
  /// `--cycle-search-timeout`: how long to search one component for each kind of cycle.
  public var cycleSearchTimeout: Duration = .seconds(1)
  /// rw-register's version-order inferences (`--linearizable-keys`, `--sequential-keys`, `--wfr-keys`).
  public var linearizableKeys = false
  public var sequentialKeys = false
  public var wfrKeys = false

  public init() {}
}

/// The verdict on a transaction history, Elle's `result-map`.
public struct TransactionReport: Sendable {
  public enum Validity: String, Sendable { case valid = "true", invalid = "false", unknown }
  public var model: String
  public var valid: Validity
  /// The anomaly types reported (those the options rule out, and those that make the verdict unknown), sorted.
  public var anomalyTypes: [String]
  /// The weakest models the anomalies rule out, and the stronger ones also ruled out (friendly names).
  public var not: [String]
  public var alsoNot: [String]
  /// The reported anomalies by type, each list in a stable order.
  public var anomalies: [String: [Anomaly]]
  public var transactions: Int
}

/// Checks list-append and rw-register histories as Elle does.
public enum TransactionChecks {
  public static let models = ["list-append", "rw-register"]

  public static func check(_ history: History, model: String, options: TransactionCheckOptions = .init()) throws(HistoryError)
    -> TransactionReport
  {
    let fail = { (message: String) in HistoryError(file: history.file, problems: [.init(line: 0, message: message)]) }
    for m in options.consistencyModels where !ConsistencyModels.all.contains(m) {
      throw fail("unknown consistency model \(m); known: \(ConsistencyModels.all.sorted().joined(separator: ", "))")
    }
    let prohibited = ConsistencyModels.implying(options.anomalies).union(ConsistencyModels.prohibited(by: options.consistencyModels))
    let reportable = prohibited.union(["empty-transaction-graph", "cycle-search-timeout"])
    var extras: [Rels] = []
    if reportable.contains(where: { $0.hasSuffix("-realtime") }) {
      extras = [.realtime]
    } else if reportable.contains(where: { $0.hasSuffix("-process") }) {
      extras = [.process]
    }
    let txns: [Transaction]
    var found: [Anomaly]
    var builder: DependencyGraph.Builder
    let explainer: any PairExplainer
    let vertices: [Int]
    switch model {
    case "list-append":
      txns = try Transaction.all(history, kinds: [.append, .read])
      let la: ListAppend
      do throws(ListAppend.Problem) { la = try ListAppend(txns) } catch { throw fail(error.message) }
      found = la.nonCycleAnomalies()
      builder = DependencyGraph.Builder(count: la.vertices.count)
      la.edges(into: &builder)
      (explainer, vertices) = (la, la.vertices)
    case "rw-register":
      txns = try Transaction.all(history, kinds: [.write, .read])
      let rw = RWRegister(txns, options: options)
      found = rw.nonCycleAnomalies()
      builder = DependencyGraph.Builder(count: rw.vertices.count)
      rw.edges(into: &builder)
      (explainer, vertices) = (rw, rw.vertices)
    default:
      throw fail("--model \(model) is not a transaction model (\(models.joined(separator: ", ")))")
    }
    orderEdges(txns, vertices, extras, into: &builder)
    if builder.edges.isEmpty {
      found.append(Anomaly(type: "empty-transaction-graph", text: ["no transaction depends on another: nothing to check"], data: .bool(true)))
    }
    let graph = DependencyGraph(builder)
    found += cycles(graph, txns: txns, vertices: vertices, extras: extras, explainer: explainer, timeout: options.cycleSearchTimeout)
    var byType: [String: [Anomaly]] = [:]
    for a in found { byType[a.type, default: []].append(a) }
    // The same history gives the same report: each type's anomalies in the order of their data.
    for (t, list) in byType { byType[t] = list.map { ($0.data.json, $0) }.sorted { $0.0 < $1.0 }.map(\.1) }
    var shown = byType.filter { reportable.contains($0.key) }
    // A cycle-exists anomaly says nothing more once other anomalies rule its model out (remove-redundant-cycle-exists).
    let named = shown.keys.filter { !$0.hasSuffix("-cycle-exists") }
    let ruledOut = ConsistencyModels.impossibleModels(named)
    for spec in CycleExists.specs where ruledOut.contains(spec.model) { shown[spec.model + "-cycle-exists"] = nil }
    let bad = byType.keys.contains { prohibited.contains($0) }
    let boundary = ConsistencyModels.boundary(byType.keys)
    return TransactionReport(
      model: model, valid: shown.isEmpty ? .valid : bad ? .invalid : .unknown, anomalyTypes: shown.keys.sorted(),
      not: shown.isEmpty ? [] : boundary.not, alsoNot: shown.isEmpty ? [] : boundary.alsoNot, anomalies: shown,
      transactions: txns.count)
  }

  /// Process edges (each process's ok transactions in order) and real-time
  /// edges (from each ok transaction to those invoked after it completed; a
  /// transitive reduction, as `elle.core/realtime-graph` builds it).
  static func orderEdges(_ txns: [Transaction], _ vertices: [Int], _ extras: [Rels], into g: inout DependencyGraph.Builder) {
    if extras.contains(.process) {
      var last: [Int: Int] = [:]
      for (v, i) in vertices.enumerated() where txns[i].outcome == .ok {
        if let p = last[txns[i].process] { g.link(p, v, .process) }
        last[txns[i].process] = v
      }
    }
    guard extras.contains(.realtime) else { return }
    var events: [(at: Int, v: Int, invoke: Bool)] = []
    for (v, i) in vertices.enumerated() {
      events.append((txns[i].invoke, v, true))
      if txns[i].outcome == .ok, let c = txns[i].completion { events.append((c, v, false)) }
    }
    events.sort { $0.at < $1.at }
    // The frontier is about one transaction per process: a list, not a set. Each vertex's
    // predecessors (the frontier at its invoke) are a range of one flat list.
    var frontier: [Int] = []
    var preds: [Int] = []
    var predRange = [Range<Int>](repeating: 0..<0, count: vertices.count)
    for e in events {
      if e.invoke {
        predRange[e.v] = preds.count..<(preds.count + frontier.count)
        preds += frontier
        for p in frontier { g.link(p, e.v, .realtime) }
      } else {
        let gone = preds[predRange[e.v]]
        if gone.count > 16 {
          let set = Set(gone)  // many processes at once
          frontier.removeAll { set.contains($0) }
        } else {
          frontier.removeAll { gone.contains($0) }
        }
        frontier.append(e.v)
      }
    }
  }

  /// Cycle anomalies in each strongly connected component.
  static func cycles(
    _ graph: DependencyGraph, txns: [Transaction], vertices: [Int], extras: [Rels], explainer: any PairExplainer, timeout: Duration
  ) -> [Anomaly] {
    var out: [Anomaly] = []
    let vtxns = vertices.map { txns[$0] }
    for scc in graph.components([.ww, .wr, .rw, .process, .realtime]) {
      let exists = CycleExists.cases(graph, scc, txns: vtxns)
      out += exists
      var search = CycleSearch(graph: graph, deadline: ContinuousClock.now + timeout)
      let (found, searched) = search.search(scc: scc, extras: extras, impossible: CycleExists.impossibleCycleTypes(exists))
      for c in found { out.append(explainer.anomaly(c, vtxns)) }
      if search.timedOut {
        let missing = searched.dropLast().filter { t in !found.contains { $0.type == t } }
        out.append(
          Anomaly(
            type: "cycle-search-timeout",
            text: [
              "searching \(scc.count) transactions for \(searched.last ?? "?") ran out of time (--cycle-search-timeout)",
              "found no \(missing.isEmpty ? "other cycle" : missing.joined(separator: ", ")) there before",
            ],
            data: .object([
              "anomaly-spec-type": .string(searched.last ?? ""), "does-not-contain": .array(missing.map(HistoryValue.string)),
              "scc-size": .int(Int64(scc.count)),
            ])))
        if let c = search.fallback(scc) { out.append(explainer.anomaly(c, vtxns)) }
      }
    }
    return out
  }

  /// lost-update: ok transactions that read the same version of a key and both wrote it.
  static func lostUpdates(_ txns: [Transaction], writes: MicroOp.Kind) -> [Anomaly] {
    var groups: [HistoryValue: [Version: [Int]]] = [:]
    var keys: [HistoryValue] = []
    var read: [(key: HistoryValue, value: HistoryValue)] = []  // a transaction's few keys: searched, not hashed
    var wrote: [HistoryValue] = []
    for (i, t) in txns.enumerated() where t.outcome == .ok {
      read.removeAll(keepingCapacity: true)
      wrote.removeAll(keepingCapacity: true)
      for m in t.mops {
        if m.kind == writes {
          guard !wrote.contains(m.key) else { continue }
          wrote.append(m.key)
          guard let v = read.first(where: { $0.key == m.key })?.value else { continue }
          if groups[m.key] == nil { keys.append(m.key) }
          groups[m.key, default: [:]][Version(value: v), default: []].append(i)
        } else if m.kind == .read, !read.contains(where: { $0.key == m.key }) {
          read.append((m.key, m.value))
        }
      }
    }
    var out: [Anomaly] = []
    for k in keys {
      for (version, ts) in groups[k]!.sorted(by: { $0.value[0] < $1.value[0] }) where ts.count > 1 {
        let v = version.value
        let names = ts.prefix(4).map { txns[$0].name }.joined(separator: ", ") + (ts.count > 4 ? ", …" : "")
        out.append(
          Anomaly(
            type: "lost-update",
            text: ["\(ts.count) transactions read key \(MicroOp.edn(k)) = \(Transaction.cut(MicroOp.edn(v), 40)) and each wrote it: \(names)"],
            data: .object(["key": k, "value": v, "txns": .array(ts.map { txns[$0].json })])))
      }
    }
    return out
  }
}

/// A version a transaction read, hashed by its length and last element
/// only: a list-append read may be a long list, and reads that agree on
/// those two are almost always equal (equality still compares them all).
struct Version: Hashable {
  var value: HistoryValue

  func hash(into h: inout Hasher) {
    if case .array(let a) = value {
      h.combine(a.count)
      h.combine(a.last)
    } else {
      h.combine(value)
    }
  }
}

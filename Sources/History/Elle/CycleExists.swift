/// Elle's cycle-existence checks (`elle.txn/cycle-exists-specs`): for each
/// model, a subgraph that must be acyclic if the model holds. A strongly
/// connected component in it proves some cycle exists, even when the search
/// for a named cycle runs out of time (`PL-SI-cycle-exists`,
/// `strong-snapshot-isolation-cycle-exists`, …). The snapshot-isolation
/// subgraphs are sequential extensions: their edges, plus x → z wherever
/// x → y is one of them and y → z is rw, so a cycle in it never takes two rw
/// edges in a row.
enum CycleExists {
  struct Spec {
    var model: String
    var rels: Rels
    var extended: Bool
  }

  static let specs: [Spec] = [
    .init(model: "PL-1", rels: [.ww], extended: false),
    .init(model: "PL-2", rels: [.ww, .wr], extended: false),
    .init(model: "PL-SI", rels: [.ww, .wr], extended: true),
    .init(model: "PL-2.99", rels: [.ww, .wr, .rw], extended: false),
    .init(model: "PL-3", rels: [.ww, .wr, .rw], extended: false),
    .init(model: "strong-session-PL-1", rels: [.ww, .process], extended: false),
    .init(model: "strong-session-PL-2", rels: [.ww, .wr, .process], extended: false),
    .init(model: "strong-session-snapshot-isolation", rels: [.ww, .wr, .process], extended: true),
    .init(model: "strong-session-serializable", rels: [.ww, .wr, .rw, .process], extended: false),
    .init(model: "strong-PL-1", rels: [.ww, .realtime], extended: false),
    .init(model: "strong-PL-2", rels: [.ww, .wr, .realtime], extended: false),
    .init(model: "strong-snapshot-isolation", rels: [.ww, .wr, .realtime], extended: true),
    .init(model: "PL-SS", rels: [.ww, .wr, .rw, .realtime], extended: false),
  ]

  /// The cycle-exists anomalies of one component, weakest models first; a
  /// model already ruled out by a weaker one's cycle is not checked.
  static func cases(_ graph: DependencyGraph, _ scc: [Int], txns: [Transaction]) -> [Anomaly] {
    var out: [Anomaly] = []
    var ruledOut = Set<String>()
    for spec in specs where !ruledOut.contains(spec.model) {
      guard let smallest = component(graph, scc, spec) else { continue }
      ruledOut.formUnion(ConsistencyModels.closure([spec.model], ConsistencyModels.modelsImplying))
      let friendly = ConsistencyModels.friendlyName(spec.model)
      let ids = smallest.map { txns[$0].id }
      out.append(
        Anomaly(
          type: spec.model + "-cycle-exists",
          text: [
            "a cycle that rules out \(friendly) exists among these \(ids.count) operations: \(Transaction.cut(ids.map(String.init).joined(separator: ", "), 100))"
          ],
          data: .object([
            "not": .string(friendly), "scc-size": .int(Int64(ids.count)), "scc": .array(ids.map { .int(Int64($0)) }),
            "subgraph": .array(Rels.order.filter { spec.rels.contains($0.0) }.map { .string($0.1) } + (spec.extended ? [.string("+rw")] : [])),
          ])))
    }
    return out
  }

  /// The smallest component of the spec's subgraph within `scc` that holds a cycle, or nil.
  static func component(_ graph: DependencyGraph, _ scc: [Int], _ spec: Spec) -> [Int]? {
    guard spec.extended else { return graph.components(spec.rels, within: scc).min { $0.count < $1.count } }
    let inside = Set(scc)
    var b = DependencyGraph.Builder(count: graph.count)
    var selfLoop: Int?
    for x in scc {
      for e in graph.starts[x]..<graph.starts[x + 1] where !graph.rels[e].isDisjoint(with: spec.rels) {
        let y = Int(graph.targets[e])
        guard inside.contains(y) else { continue }
        b.link(x, y, .ww)
        for f in graph.starts[y]..<graph.starts[y + 1] where graph.rels[f].contains(.rw) {
          let z = Int(graph.targets[f])
          guard inside.contains(z) else { continue }
          if z == x, selfLoop == nil { selfLoop = x }
          b.link(x, z, .ww)
        }
      }
    }
    if let selfLoop { return [selfLoop] }
    return DependencyGraph(b).components(.ww, within: scc).min { $0.count < $1.count }
  }

  /// The cycle types that cannot be in a component where these cycle-exists
  /// checks found nothing (`cycle-exists-cases->impossible-cycle-anomalies`).
  static func impossibleCycleTypes(_ found: [Anomaly]) -> Set<String> {
    let ruled = ConsistencyModels.closure(
      found.compactMap { $0.data.object?["not"]?.string }.map(ConsistencyModels.name), ConsistencyModels.modelsImplying)
    let possible = specs.map(\.model).filter { !ruled.contains($0) }
    return ConsistencyModels.prohibited(by: possible)
  }
}

extension HistoryValue {
  var object: [String: HistoryValue]? {
    if case .object(let o) = self { return o }
    return nil
  }
}

/// A cycle of transactions: `vertices[i]` → `vertices[i+1]` (and the last
/// back to the first) by an edge of kind `rels[i]`.
struct Cycle: Sendable {
  var vertices: [Int]
  var rels: [Rels]

  /// Elle's name for the cycle, from the kinds of its edges (`elle.txn`'s
  /// cycle explainer): one rw edge is G-single-item; several, G2-item when two
  /// are adjacent (counting last → first), else G-nonadjacent-item; none, G1c
  /// with a wr edge, else G0. A realtime edge adds `-realtime`, else a process
  /// edge `-process`.
  var type: String {
    let rw = rels.filter { $0 == .rw }.count
    var adjacent = false
    for i in rels.indices where rels[i] == .rw && rels[(i + 1) % rels.count] == .rw { adjacent = true }
    let data =
      rw == 1 ? "G-single-item" : rw > 1 ? (adjacent ? "G2-item" : "G-nonadjacent-item") : rels.contains(.wr) ? "G1c" : "G0"
    if rels.contains(.realtime) { return data + "-realtime" }
    if rels.contains(.process) { return data + "-process" }
    return data
  }
}

/// Looks for the cycle anomalies in one strongly connected component of a
/// dependency graph, the most severe first, as `elle.txn` does: G0, G1c,
/// G-single-item, G-nonadjacent-item, G2-item, then their `-process` and
/// `-realtime` variants when those edges are in the graph. A type implied by
/// one already found is not searched for (G-single-item implies
/// G-nonadjacent-item implies G2-item). Each search is a breadth-first one
/// from each candidate edge back to its start, so the cycle found is a
/// shortest through that edge.
struct CycleSearch {
  let graph: DependencyGraph
  let deadline: ContinuousClock.Instant
  /// Per-vertex scratch, stamped with `generation` instead of cleared.
  private var stamp: [Int32]
  private var parent: [Int32]
  private var parentRel: [Rels]
  private var generation: Int32 = 0
  private var steps = 0
  private(set) var timedOut = false

  init(graph: DependencyGraph, deadline: ContinuousClock.Instant) {
    self.graph = graph
    self.deadline = deadline
    stamp = [Int32](repeating: 0, count: graph.count * 2)
    parent = [Int32](repeating: -1, count: graph.count * 2)
    parentRel = [Rels](repeating: [], count: graph.count * 2)
  }

  enum RW { case none, single, nonadjacent, any }

  struct Spec {
    var type: String
    /// Edges the path may take besides rw.
    var plain: Rels
    var rw: RW
    /// The kinds the edge the search starts from may have.
    var anchor: Rels
  }

  /// The searches for the given extra edge kinds (process, realtime), most severe first.
  static func specs(extras: [Rels]) -> [Spec] {
    var out: [Spec] = []
    for (extra, suffix) in [(Rels(), "")] + extras.map({ ($0, $0 == .process ? "-process" : "-realtime") }) {
      let plain: Rels = [.ww, .wr, extra]
      out += [
        Spec(type: "G0" + suffix, plain: [.ww, extra], rw: .none, anchor: extra.isEmpty ? .ww : extra),
        Spec(type: "G1c" + suffix, plain: plain, rw: .none, anchor: .wr),
        Spec(type: "G-single-item" + suffix, plain: plain, rw: .single, anchor: .rw),
        Spec(type: "G-nonadjacent-item" + suffix, plain: plain, rw: .nonadjacent, anchor: .rw),
        Spec(type: "G2-item" + suffix, plain: plain, rw: .any, anchor: .rw),
      ]
    }
    return out
  }

  /// One cycle of each type found in `scc`, and the types searched for;
  /// `impossible` types (as the cycle-exists checks show) are not searched for.
  mutating func search(scc: [Int], extras: [Rels], impossible: Set<String> = []) -> (found: [Cycle], searched: [String]) {
    var found: [Cycle] = []
    var searched: [String] = []
    var redundant = impossible
    for spec in Self.specs(extras: extras) where !redundant.contains(spec.type) {
      searched.append(spec.type)
      if let c = cycle(spec, in: scc) {
        found.append(c)
        redundant.formUnion(ConsistencyModels.closure([spec.type], ConsistencyModels.impliedAnomalies))
      }
      if timedOut { break }
    }
    return (found, searched)
  }

  /// The first cycle matching `spec` through an anchor edge, vertices and anchors in order.
  mutating func cycle(_ spec: Spec, in scc: [Int]) -> Cycle? {
    let pathRels: Rels = spec.rw == .none ? spec.plain : spec.plain.union(.rw)
    // Only vertices that share a component of the usable edges can be on a cycle.
    for part in graph.components(pathRels, within: scc) {
      let member = Set(part)
      for a in part {
        for e in graph.starts[a]..<graph.starts[a + 1] {
          let b = Int(graph.targets[e])
          let kinds = graph.rels[e]
          guard member.contains(b), !kinds.isDisjoint(with: spec.anchor) else { continue }
          let first: Rels = spec.anchor == .rw ? .rw : Self.label(kinds.intersection(spec.anchor))
          guard let path = path(from: b, to: a, spec: spec, member: member) else {
            if timedOut { return nil }
            continue
          }
          let c = Cycle(vertices: [a] + path.vertices, rels: [first] + path.rels)
          if c.type == spec.type { return c }
        }
      }
    }
    return nil
  }

  /// The edge kind a step is explained by: data before process before realtime.
  static func label(_ kinds: Rels) -> Rels {
    for (r, _) in Rels.order where kinds.contains(r) { return r }
    return kinds
  }

  /// A shortest path b → … → a (vertices after b's predecessor a, i.e. b
  /// first, and the kind of each edge, the last one into a).
  private mutating func path(from b: Int, to a: Int, spec: Spec, member: Set<Int>) -> (vertices: [Int], rels: [Rels])? {
    generation += 1
    // A state is a vertex, and for nonadjacent searches whether it was entered by rw (state + count).
    let n = graph.count
    let startState = spec.rw == .nonadjacent ? b + n : b
    var queue = [startState]
    stamp[startState] = generation
    parent[startState] = -1
    var head = 0
    while head < queue.count {
      steps += 1
      if steps & 1023 == 0, ContinuousClock.now > deadline {
        timedOut = true
        return nil
      }
      let s = queue[head]
      head += 1
      let v = s % n
      let afterRW = s >= n
      for e in graph.starts[v]..<graph.starts[v + 1] {
        let w = Int(graph.targets[e])
        guard member.contains(w) else { continue }
        let kinds = graph.rels[e]
        let plain = kinds.intersection(spec.plain)
        var rel: Rels
        if !plain.isEmpty {
          rel = Self.label(plain)
        } else if kinds.contains(.rw), spec.rw == .any || (spec.rw == .nonadjacent && !afterRW) {
          rel = .rw
        } else {
          continue
        }
        let t = spec.rw == .nonadjacent && rel == .rw ? w + n : w
        if stamp[t] == generation { continue }
        stamp[t] = generation
        parent[t] = Int32(s)
        parentRel[t] = rel
        if w == a, !(spec.rw == .nonadjacent && rel == .rw) {
          var vertices: [Int] = []
          var rels: [Rels] = []
          var x = t
          while x != startState {
            vertices.append(x % n)
            rels.append(parentRel[x])
            x = Int(parent[x])
          }
          vertices.append(b)
          vertices.reverse()
          rels.reverse()
          vertices.removeLast()  // a, the cycle's first vertex
          return (vertices, rels)
        }
        queue.append(t)
      }
    }
    return nil
  }

  /// Some cycle in the component (when the search ran out of time): a
  /// shortest one back to its first vertex over every edge.
  mutating func fallback(_ scc: [Int]) -> Cycle? {
    let saved = (timedOut, steps)
    defer { (timedOut, steps) = saved }
    timedOut = false
    steps = 1
    let spec = Spec(type: "", plain: [.ww, .wr, .process, .realtime], rw: .any, anchor: [])
    let member = Set(scc)
    let a = scc[0]
    for e in graph.starts[a]..<graph.starts[a + 1] where member.contains(Int(graph.targets[e])) {
      let b = Int(graph.targets[e])
      let d = ContinuousClock.now.advanced(by: .seconds(3600))
      var unbounded = CycleSearch(graph: graph, deadline: d)
      if let p = unbounded.path(from: b, to: a, spec: spec, member: member) {
        return Cycle(vertices: [a] + p.vertices, rels: [Self.label(graph.rels[e])] + p.rels)
      }
    }
    return nil
  }
}

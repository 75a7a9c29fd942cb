/// Narrows a part that cannot be linearized to a small set of its
/// operations that still cannot be, so a person can see why.
///
/// Two steps, each keeping only what is proven. First the shortest prefix
/// of the history that cannot be linearized: a prefix of a linearizable
/// history is linearizable, so a binary search finds it (operations still
/// outstanding at the cut count as unknown), below the point the full
/// search never got past. Then operations are relaxed: a relaxed operation
/// may take effect at any time after its invoke, or never, and its result
/// no longer counts. A group whose relaxing leaves the part still not
/// linearizable is left out; else it is halved and each half tried, down
/// to single operations, which are then needed. Relaxing only ever adds
/// freedom, so this leaves a set from which no single operation can be
/// left out. A search that hits its limits counts as "linearizable" here
/// (what it would relax is kept), and the witness is then not called minimal.
enum Witness {

  /// What a failed search found: see ``SearchOutcome/violation(longest:states:blocked:frontier:)``.
  typealias Evidence<State> = (longest: [Int], states: [State], blocked: Int, frontier: Int)

  /// The witness of a part whose search of all its operations failed with `first`.
  static func find<M: HistoryModel>(
    model: M, key: String?, ops: [SearchOp<M.Spec.Input>], first: Evidence<M.Spec.State>, deadline: ContinuousClock.Instant?,
    searches: Int = 400, narrow: Bool
  ) -> Violation {
    typealias Op = SearchOp<M.Spec.Input>
    let limits = SearchLimits(deadline: deadline, memo: model.narrowingMemo)
    var complete = true
    // The last search that failed: the account of the witness.
    var evidence: Evidence<M.Spec.State>? = first
    var budget = searches
    func fails(_ kept: [Op], _ relaxed: [Op], limits: SearchLimits = limits) -> Bool {
      // Past the budget a search counts as "linearizable" (what it would relax is kept), as at a limit.
      guard budget > 0 else {
        complete = false
        return false
      }
      budget -= 1
      switch model.search(kept: kept, relaxed: relaxed).run(limits) {
      case .violation(let l, let s, let b, let f):
        evidence = (l, s, b, f)
        return true
      case .linearizable: return false
      case .unknown:
        complete = false
        return false
      }
    }

    let end = (ops.map { $0.ret == Op.never ? $0.call : $0.ret }.max() ?? 0) + 1
    var cut = min(end, first.frontier + 1)
    var kept = prefix(model, ops, cut)
    var relaxed: [Op] = []
    if narrow {
      var lo = 0
      var hi = cut
      while lo + 1 < hi {
        let mid = (lo + hi) / 2
        if fails(prefix(model, ops, mid), []) { hi = mid } else { lo = mid }
      }
      cut = hi
      kept = prefix(model, ops, cut)
      evidence = nil
      _ = fails(kept, [])
      // Observations first (leaving them out costs the search nothing), each in time order.
      let candidates = kept.map(\.id).sorted { a, b in
        let (oa, ob) = (kept.first { $0.id == a }!, kept.first { $0.id == b }!)
        let (va, vb) = (model.observes(oa.input), model.observes(ob.input))
        return va != vb ? va : oa.call < ob.call
      }
      var out = Set<Int>()
      func relax(_ group: ArraySlice<Int>) {
        guard !group.isEmpty else { return }
        if let d = deadline, ContinuousClock.now >= d {
          complete = false
          return
        }
        let trialOut = out.union(group)
        if fails(kept.filter { !trialOut.contains($0.id) }, kept.filter { trialOut.contains($0.id) }) {
          out = trialOut
          return
        }
        guard group.count > 1 else { return }
        let mid = group.startIndex + group.count / 2
        relax(group[group.startIndex..<mid])
        relax(group[mid...])
      }
      let observations = candidates.prefix { id in model.observes(kept.first { $0.id == id }!.input) }
      relax(observations)
      relax(candidates[observations.endIndex...])
      relaxed = kept.filter { out.contains($0.id) }
      kept = kept.filter { !out.contains($0.id) }
      // Only a failed search changes `out`, so the last one is of exactly this witness.
      budget = max(budget, 1)  // the account of the witness is always searched for
      if evidence == nil, !fails(kept, relaxed) { complete = false }
    }
    let e = evidence ?? ([], [], kept.last?.id ?? 0, 0)
    return Violation(
      key: key, part: ops.map(\.id).sorted(), witness: kept.map(\.id).sorted(), minimal: narrow && complete, cut: cut,
      longest: e.longest, states: e.states.map(model.describe), blocked: e.blocked)
  }

  /// The part as the history's first `cut` events show it: operations
  /// invoked later are gone, and those outstanding at the cut have an
  /// unknown outcome (reads among them say nothing, and drop out).
  static func prefix<M: HistoryModel>(_ model: M, _ ops: [SearchOp<M.Spec.Input>], _ cut: Int) -> [SearchOp<M.Spec.Input>] {
    ops.compactMap { op in
      guard op.call < cut else { return nil }
      if op.ret < cut { return op }
      if model.observes(op.input) { return nil }
      return SearchOp(id: op.id, input: model.unknown(op.input), call: op.call, ret: SearchOp<M.Spec.Input>.never)
    }
  }
}

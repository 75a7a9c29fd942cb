/// Jepsen's `long-fork` checker: write transactions `[[w, k, v]]` insert
/// each key once; read transactions `[[r, k1, v1], …]` read a group of
/// `groupSize` keys. Two reads of the same group that each saw an insert the
/// other did not (one has x and not y, the other y and not x) saw the writes
/// in incompatible orders: a long fork (allowed by parallel snapshot
/// isolation, not by snapshot isolation). A key written twice leaves the
/// verdict unknown, as does a read of the wrong number of keys or two reads
/// with different values for one key.
struct LongForkChecker {
  var groupSize: Int?

  typealias Read = (op: ClientOperation, values: [String: HistoryValue])

  func check(_ history: History) throws(HistoryError) -> Verdict {
    var shape = HistoryShape(history)
    var reads: [Read] = []
    var written = Set<String>()
    var twice: String?
    for op in history.operations {
      guard case .array(let mops) = HistoryShape.value(op) else {
        shape.add(op, "a long-fork operation is a list of [f, k, v] micro-operations, not \(HistoryShape.value(op).json)")
        continue
      }
      var steps: [(f: String, k: String, v: HistoryValue)] = []
      for m in mops {
        guard case .array(let t) = m, t.count == 3, let f = t[0].string, ["r", "read", "w", "write"].contains(f) else {
          shape.add(op, "micro-operation \(m.json) is not [r, k, v] or [w, k, v]")
          continue
        }
        steps.append((f.hasPrefix("r") ? "r" : "w", MultiRegisterModel.key(t[1]), t[2]))
      }
      if steps.count == 1, steps[0].f == "w" {
        if !written.insert(steps[0].k).inserted, twice == nil { twice = steps[0].k }
      } else if op.outcome == .ok, !steps.isEmpty, steps.allSatisfy({ $0.f == "r" }) {
        reads.append((op, Dictionary(steps.map { ($0.k, $0.v) }, uniquingKeysWith: { a, _ in a })))
      }
    }
    try shape.check()
    let counts: [String: HistoryValue] = [
      "readCount": .int(Int64(reads.count)),
      "earlyReadCount": .int(Int64(reads.filter { $0.values.values.allSatisfy { $0 == .null } }.count)),
      "lateReadCount": .int(Int64(reads.filter { $0.values.values.allSatisfy { $0 != .null } }.count)),
    ]
    func unknown(_ why: String) -> Verdict {
      Verdict(valid: .unknown, model: .longFork, summary: why, fields: counts.merging(["error": .string(why)]) { a, _ in a })
    }
    if let k = twice { return unknown("key \(k) is written more than once; the checker assumes one write per key") }
    let n = groupSize ?? reads.first?.values.count ?? 0
    var groups: [[String]: [Read]] = [:]
    for r in reads { groups[r.values.keys.sorted(), default: []].append(r) }
    var forks: [(Read, Read)] = []
    for keys in groups.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
      let group = groups[keys]!
      guard keys.count == n else {
        return unknown("a read (line \(group[0].op.invokeLine)) reads \(keys.count) keys, not the group size \(n)")
      }
      // Reads that saw the same values are one read here.
      var distinct: [Read] = []
      var seen = Set<[String: HistoryValue]>()
      for r in group where seen.insert(r.values).inserted { distinct.append(r) }
      for i in distinct.indices {
        for j in distinct.indices where j > i {
          switch Self.compare(distinct[i].values, distinct[j].values) {
          case .some(.none): forks.append((distinct[i], distinct[j]))
          case .none:
            return unknown("reads at lines \(distinct[i].op.invokeLine) and \(distinct[j].op.invokeLine) saw different values for one key")
          case .some(.some): continue
          }
        }
      }
    }
    var lines: [String] = []
    for (a, b) in forks.prefix(5) {
      lines.append("Long fork: p\(a.op.process) (line \(a.op.completionLine ?? 0)) \(Self.text(a.values))")
      lines.append("      and: p\(b.op.process) (line \(b.op.completionLine ?? 0)) \(Self.text(b.values))")
    }
    if forks.count > 5 { lines.append("… and \(forks.count - 5) more forks") }
    let json = forks.prefix(100).map { f in HistoryValue.array([.int(Int64(f.0.op.id)), .int(Int64(f.1.op.id))]) }
    return Verdict(
      valid: forks.isEmpty ? .valid : .invalid, model: .longFork,
      summary: "\(reads.count) reads in \(groups.count) groups of \(n) keys, \(forks.count) long forks", lines: lines,
      fields: counts.merging(["forkCount": .int(Int64(forks.count)), "forks": .array(json), "groupSize": .int(Int64(n))]) { a, _ in a })
  }

  /// Jepsen's read-compare: -1 when a saw everything b saw and more, 1 the
  /// reverse, 0 when equal, `.some(nil)` when neither (a fork); nil when
  /// both saw different non-null values for a key (not this workload).
  static func compare(_ a: [String: HistoryValue], _ b: [String: HistoryValue]) -> Int?? {
    var result = 0
    for k in a.keys.sorted() {
      let (va, vb) = (a[k]!, b[k] ?? .null)
      if va == vb { continue }
      if vb == .null {
        if result > 0 { return .some(nil) }
        result = -1
      } else if va == .null {
        if result < 0 { return .some(nil) }
        result = 1
      } else {
        return nil
      }
    }
    return .some(result)
  }

  static func text(_ values: [String: HistoryValue]) -> String {
    Verdict.clip(values.keys.sorted().map { "\($0)=\(values[$0]!.json)" }.joined(separator: " "), to: 80)
  }
}

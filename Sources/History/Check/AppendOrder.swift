/// A polynomial decision for the common kv workload: appends of distinct
/// tokens (no value a prefix of another, no put) and gets.
///
/// Then the longest get spells the only possible order of the appends it
/// holds, and every other get must be a prefix of it ending between two
/// tokens. What is left is a chain: append 1, the gets that saw 1 token,
/// append 2, the gets that saw 2, …, then the appends no get saw. Placing
/// each operation as early as its interval and the chain allow (greedy) finds
/// a linearization whenever one exists. It answers "linearizable" with that
/// order, or nil when the shape does not fit or the greedy placement fails
/// (the search then decides, and narrows a violation down as usual), so it
/// never changes a verdict, only how fast a valid history is decided: the
/// Redis history with 20 unknown appends took the search 124 s and 1 GB.
enum AppendOrder {
  static func linearization(_ ops: [SearchOp<KVInput>]) -> [Int]? {
    var byValue: [[UInt8]: Int] = [:]
    var gets: [(index: Int, bytes: [UInt8])] = []
    for (i, op) in ops.enumerated() {
      switch op.input {
      case .put: return nil
      case .append(let v):
        let bytes = Array(v.utf8)
        guard !bytes.isEmpty, byValue.updateValue(i, forKey: bytes) == nil else { return nil }
      case .get(let s): gets.append((i, Array(s.utf8)))
      }
    }
    let values = byValue.keys.sorted { $0.lexicographicallyPrecedes($1) }
    for (a, b) in zip(values, values.dropFirst()) where b.starts(with: a) { return nil }
    // The longest get, cut into tokens: the order of the appends it saw.
    let longest = gets.max { $0.bytes.count < $1.bytes.count }?.bytes ?? []
    let lengths = Set(values.map(\.count)).sorted()
    var chain: [Int] = []
    var boundary: [Int: Int] = [0: 0]  // byte length → tokens before it
    var at = 0
    while at < longest.count {
      guard let i = lengths.lazy.compactMap({ n in at + n <= longest.count ? byValue[Array(longest[at..<(at + n)])] : nil }).first else {
        return nil
      }
      chain.append(i)
      at += ops[i].input.appendLength
      boundary[at] = chain.count
    }
    var groups = [[Int]](repeating: [], count: chain.count + 1)
    for g in gets {
      guard longest.starts(with: g.bytes), let p = boundary[g.bytes.count] else { return nil }
      groups[p].append(g.index)
    }
    let inChain = Set(chain)
    let extra = ops.indices.filter { i in
      if case .append = ops[i].input { return !inChain.contains(i) }
      return false
    }
    // Greedy: each operation at the earliest point after the last placed and its invoke.
    var order: [Int] = []
    var last = -1
    func placed(_ group: [Int]) -> Bool {
      var points: [(at: Int, op: Int)] = []
      for i in group {
        let at = max(last, ops[i].call)
        guard at < ops[i].ret else { return false }
        points.append((at, i))
      }
      points.sort { ($0.at, $0.op) < ($1.at, $1.op) }
      order += points.map { ops[$0.op].id }
      last = points.last.map { max(last, $0.at) } ?? last
      return true
    }
    guard placed(groups[0]) else { return nil }
    for (p, i) in chain.enumerated() {
      guard placed([i]), placed(groups[p + 1]) else { return nil }
    }
    guard placed(extra) else { return nil }
    return order
  }
}

extension KVInput {
  var appendLength: Int {
    if case .append(let v) = self { return v.utf8.count }
    return 0
  }
}

/// The search's memo: a set of (linearized operations, state) pairs, each
/// stored flat as `width` words: the operations as a bitset, then the
/// state's number + 1 (so an all-zero slot is empty). Open addressing in
/// one array: no allocation per entry, 16 bytes an entry for up to 64
/// operations, and nothing else that grows with the search.
struct MemoTable {
  let width: Int
  private var slots: [UInt64]
  private var mask: Int
  private(set) var count = 0

  init(width: Int, capacity: Int = 1024) {
    self.width = width
    var c = 16
    while c < capacity { c <<= 1 }
    slots = [UInt64](repeating: 0, count: c * width)
    mask = c - 1
  }

  /// Bytes the table holds.
  var bytes: Int { slots.count * 8 }

  /// Inserts the key (`width` words, the last nonzero); false when it was there.
  mutating func insert(_ key: UnsafeBufferPointer<UInt64>) -> Bool {
    if (count + 1) * 2 > mask + 1 { grow() }
    let w = width
    var i = Self.hash(key) & mask
    let inserted: Bool = slots.withUnsafeMutableBufferPointer { s in
      while true {
        let base = i * w
        if s[base + w - 1] == 0 {
          for j in 0..<w { s[base + j] = key[j] }
          return true
        }
        var same = true
        for j in 0..<w where s[base + j] != key[j] {
          same = false
          break
        }
        if same { return false }
        i = (i + 1) & mask
      }
    }
    if inserted { count += 1 }
    return inserted
  }

  private mutating func grow() {
    let old = slots
    let w = width
    slots = [UInt64](repeating: 0, count: old.count * 2)
    mask = (mask + 1) * 2 - 1
    count = 0
    old.withUnsafeBufferPointer { o in
      for base in stride(from: 0, to: o.count, by: w) where o[base + w - 1] != 0 {
        _ = insert(UnsafeBufferPointer(rebasing: o[base..<(base + w)]))
      }
    }
  }

  static func hash(_ key: UnsafeBufferPointer<UInt64>) -> Int {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for word in key {
      h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
      h ^= h &>> 29
    }
    return Int(truncatingIfNeeded: h ^ (h &>> 32))
  }
}

/// The states a search meets, numbered, and the transitions between them
/// cached: an operation applied to a state is computed once.
struct StateTable<Spec: SequentialSpec> {
  private(set) var states: [Spec.State] = []
  private var numbers: [Spec.State: Int32] = [:]
  /// transitions[state * ops + op]: -2 not computed yet, -1 not allowed, else the state after.
  private var transitions: [Int32] = []
  private let ops: Int
  /// Past this many cached transitions (states × operations) they are computed every time.
  static var cacheLimit: Int { 1 << 22 }

  init(ops: Int) { self.ops = ops }

  mutating func number(_ s: Spec.State) -> Int32 {
    if let n = numbers[s] { return n }
    let n = Int32(states.count)
    states.append(s)
    numbers[s] = n
    if transitions.count + ops <= Self.cacheLimit { transitions.append(contentsOf: repeatElement(-2, count: ops)) }
    return n
  }

  /// The state after operation `index` in state `state`, or -1.
  mutating func apply(_ spec: Spec, _ op: SearchOp<Spec.Input>, index: Int, to state: Int32) -> Int32 {
    let slot = Int(state) * ops + index
    if slot < transitions.count, transitions[slot] != -2 { return transitions[slot] }
    let after = spec.apply(op, to: states[Int(state)]).map { number($0) } ?? -1
    if slot < transitions.count { transitions[slot] = after }
    return after
  }
}

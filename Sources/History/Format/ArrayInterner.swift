/// Gives each JSON array read its elements in an array of exactly their
/// count, and an array of scalars (integers, strings, booleans, nulls) read
/// before the same array again (hash-consing), so a history holds each
/// distinct list once.
///
/// A list-append history is mostly reads of lists, and the same lists come
/// back: a key's version is read again until the next append, and a
/// generator that numbers each key's elements from 1 (Elle's does, as does
/// `cthulhu generate-history`) reads `[1 2 3 …]` of many keys. A million
/// transactions read about 61 million elements at 24 bytes each
/// (``HistoryValue``'s size), plus the slack of arrays grown by doubling;
/// each array made once instead costs a look-up here. Arrays are values, so
/// sharing one buffer changes nothing a reader of the history can see.
///
/// Doubles are not interned: `7` and `7.0` are equal (``HistoryValue``'s
/// `==`) but print differently, and an array read keeps its own spelling.
struct ArrayInterner {
  /// The elements of the arrays being read, innermost last: an array's
  /// elements are pushed as they are read, then popped when it closes.
  var stack: [HistoryValue] = []
  /// The arrays kept, their hashes, and an open-addressing table of their
  /// indices in `kept` (-1: a free slot; the count a power of two, at most half full).
  private var kept: [[HistoryValue]] = []
  private var hashes: [Int] = []
  private var table: [Int32] = []

  /// The array of the elements pushed since `base` (the stack's count when
  /// it opened), the one kept when the same scalars were read before; pops them.
  mutating func finish(from base: Int) -> [HistoryValue] {
    let n = stack.count - base
    guard n > 0 else { return [] }
    defer { stack.removeLast(n) }
    guard let h = Self.hash(stack, from: base) else { return copy(from: base) }
    if table.isEmpty { table = [Int32](repeating: -1, count: 1024) }
    let mask = table.count - 1
    var slot = h & mask
    while table[slot] >= 0 {
      let k = Int(table[slot])
      if hashes[k] == h, Self.same(kept[k], stack, from: base) { return kept[k] }
      slot = (slot + 1) & mask
    }
    let a = copy(from: base)
    guard kept.count < Int(Int32.max) else { return a }
    table[slot] = Int32(kept.count)
    kept.append(a)
    hashes.append(h)
    if kept.count * 2 > table.count { grow() }
    return a
  }

  /// The elements from `base` on in an array of their own, of their count
  /// (`Array(stack[base...])` would share the stack's whole buffer when `base` is 0).
  private func copy(from base: Int) -> [HistoryValue] {
    stack.withUnsafeBufferPointer { s in
      [HistoryValue](unsafeUninitializedCapacity: s.count - base) { b, count in
        _ = b.initialize(fromContentsOf: s[base...])
        count = s.count - base
      }
    }
  }

  /// Pops the elements pushed since `base` (an array that did not close).
  mutating func drop(from base: Int) {
    stack.removeSubrange(base...)
  }

  private mutating func grow() {
    table = [Int32](repeating: -1, count: table.count * 2)
    let mask = table.count - 1
    for (k, h) in hashes.enumerated() {
      var slot = h & mask
      while table[slot] >= 0 { slot = (slot + 1) & mask }
      table[slot] = Int32(k)
    }
  }

  /// A hash of the scalars from `base` on (non-negative); nil when one is not a scalar.
  private static func hash(_ s: [HistoryValue], from base: Int) -> Int? {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 &+ UInt64(s.count - base)
    for e in s[base...] {
      let x: UInt64
      switch e {
      case .int(let i): x = UInt64(bitPattern: i)
      case .string(let t): x = UInt64(bitPattern: Int64(t.hashValue))
      case .null: x = 0x9E37_79B9_7F4A_7C15
      case .bool(let b): x = b ? 0xBF58_476D_1CE4_E5B9 : 0x94D0_49BB_1331_11EB
      default: return nil
      }
      h = (h ^ x) &* 0x0000_0100_0000_01B3
      h ^= h >> 29
    }
    h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
    h ^= h >> 32
    return Int(truncatingIfNeeded: h & UInt64(Int.max))
  }

  /// Whether `a` holds the scalars of `s` from `base` on, each of the same kind.
  private static func same(_ a: [HistoryValue], _ s: [HistoryValue], from base: Int) -> Bool {
    guard a.count == s.count - base else { return false }
    for (x, y) in zip(a, s[base...]) {
      switch (x, y) {
      case (.int(let p), .int(let q)): if p != q { return false }
      case (.string(let p), .string(let q)): if !p.utf8.elementsEqual(q.utf8) { return false }  // spelt alike, not only equivalent
      case (.null, .null): continue
      case (.bool(let p), .bool(let q)): if p != q { return false }
      default: return false
      }
    }
    return true
  }
}

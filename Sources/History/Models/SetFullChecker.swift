/// Jepsen's `set-full` checker: `add` of unique elements, `read`s of the
/// whole set throughout. Each element is
///
/// - **stable** when some read saw it and no read invoked later (and
///   completing after its add began) missed it; **stale** when stable but a
///   read invoked after it was known (add acknowledged, or first seen) missed
///   it: the stable latency is from then to just after that read's invoke;
/// - **lost** when it was known, and reads invoked after the last read that
///   saw it (and after it was known) all missed it;
/// - **never read** otherwise (no read began after it was known).
///
/// Invalid when an element is lost or a read holds an element twice (and,
/// with `linearizable`, when one is stale); unknown when none is stable.
/// Operations of unknown outcome are elements like any other (an add with
/// no ack is known once a read shows it). Time and memory are linear in the
/// history: per element, the last read that saw it comes from one pass over
/// the reads, and the last one that missed it from sorted completions.
struct SetFullChecker {
  var linearizable: Bool

  func check(_ history: History) throws(HistoryError) -> Verdict {
    var shape = HistoryShape(history)
    shape.only(["add", "read"], model: .setFull)
    var index = ElementIndex()
    var elements: [HistoryValue] = []
    var addedAt: [Int] = []  // add invoke positions
    var ackedAt: [Int] = []  // add ok positions, Int.max when none
    var reads: [(inv: Int, comp: Int, op: Int, value: [HistoryValue])] = []
    for op in history.operations {
      if op.f == "add" {
        let id: Int
        if let known = index.id(of: op.argument) {
          id = known
        } else {
          id = elements.count
          index.insert(op.argument, id)
          elements.append(op.argument)
          addedAt.append(0)
          ackedAt.append(Int.max)
        }
        addedAt[id] = op.invoke
        ackedAt[id] = op.outcome == .ok ? op.completion! : Int.max
      } else if op.f == "read", op.outcome == .ok {
        guard case .array(let v) = op.result ?? .null else {
          shape.add(op, "a set read returns a list of elements, not \((op.result ?? .null).json)", completion: true)
          continue
        }
        reads.append((op.invoke, op.completion!, op.id, v))
      }
    }
    try shape.check()
    reads.sort { $0.inv < $1.inv }  // operations are in invoke order already; this keeps it explicit
    let r = reads.count
    let n = elements.count
    // Per element: the last read (by invoke) that saw it, and the first completion among reads that saw it.
    var lastPresent = [Int](repeating: -1, count: n)
    var firstSeen = [Int](repeating: Int.max, count: n)
    var members: [[Int32]] = []  // sorted when first searched (`sortedReads`)
    members.reserveCapacity(r)
    var sortedReads = [Bool](repeating: false, count: r)
    var lastRead = [Int32](repeating: -1, count: n)
    var presentCount = [Int32](repeating: 0, count: n)
    var duplicated: [HistoryValue: Int] = [:]
    for (j, read) in reads.enumerated() {
      var ids: [Int32] = []
      ids.reserveCapacity(read.value.count)
      var repeats: [Int: Int] = [:]
      for x in read.value {
        guard let id = index.id(of: x), read.comp > addedAt[id] else { continue }
        if lastRead[id] == Int32(j) {
          repeats[id, default: 1] += 1
          continue
        }
        lastRead[id] = Int32(j)
        presentCount[id] += 1
        ids.append(Int32(id))
        lastPresent[id] = j
        if read.comp < firstSeen[id] { firstSeen[id] = read.comp }
      }
      for (id, c) in repeats { duplicated[elements[id]] = max(duplicated[elements[id]] ?? 0, c) }
      members.append(ids)
    }
    // suffix[j]: the latest completion among reads invoked at j or later; prefix[j]: among reads up to j.
    var suffix = [Int](repeating: -1, count: r + 1)
    for j in stride(from: r - 1, through: 0, by: -1) { suffix[j] = max(suffix[j + 1], reads[j].comp) }
    var prefix = [Int](repeating: -1, count: r)
    for j in 0..<r { prefix[j] = max(j > 0 ? prefix[j - 1] : -1, reads[j].comp) }
    let times = history.events.map { $0.time.map { Int64(truncatingIfNeeded: $0) } ?? 0 }
    var outcomes = SetFullOutcomes(elements: elements)
    for id in 0..<n {
      let a = addedAt[id]
      let knownAt = min(ackedAt[id], firstSeen[id])
      let lp = lastPresent[id]
      var lastAbsent = -1
      if lp >= 0, suffix[lp + 1] <= a {
        // Stable. Whether a read up to lp that completed after the add began missed the element:
        // reads invoked after the add all count, and the few invoked before it that were still running.
        var lo = 0
        var hi = lp + 1
        while lo < hi {
          let mid = (lo + hi) / 2
          if reads[mid].inv > a { hi = mid } else { lo = mid + 1 }
        }
        var counted = lp + 1 - lo
        var j = lo - 1
        while j >= 0, prefix[j] > a {
          if reads[j].comp > a { counted += 1 }
          j -= 1
        }
        // Some did: the last of them.
        j = lp - 1
        while counted != Int(presentCount[id]), j >= 0, prefix[j] > a {
          if reads[j].comp > a {
            if !sortedReads[j] {
              members[j].sort()
              sortedReads[j] = true
            }
            if !members[j].binarySearch(Int32(id)) {
              lastAbsent = j
              break
            }
          }
          j -= 1
        }
        let stableTime = lastAbsent >= 0 ? times[reads[lastAbsent].inv] + 1 : 0
        outcomes.stable(id, latency: knownAt == Int.max ? 0 : max(0, stableTime - times[knownAt]) / 1_000_000)
        continue
      }
      // The last read (by invoke) that completed after the add began: it missed the element.
      var lo = 0
      var hi = r
      while lo < hi {
        let mid = (lo + hi) / 2
        if suffix[mid] > a { lo = mid + 1 } else { hi = mid }
      }
      lastAbsent = lo - 1
      if knownAt != Int.max, lastAbsent >= 0, lp < lastAbsent, knownAt < reads[lastAbsent].inv {
        let lostTime = lp >= 0 ? times[reads[lp].inv] + 1 : 0
        outcomes.lost(id, latency: max(0, lostTime - times[knownAt]) / 1_000_000)
      } else {
        outcomes.neverRead(id)
      }
    }
    return outcomes.verdict(linearizable: linearizable, duplicated: duplicated, reads: r)
  }
}

extension Array where Element == Int32 {
  /// Whether the sorted array holds `x`.
  func binarySearch(_ x: Int32) -> Bool {
    var lo = 0
    var hi = count
    while lo < hi {
      let mid = (lo + hi) / 2
      if self[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo < count && self[lo] == x
  }
}

/// Elements to their numbers. Integers (the usual elements) in tables of
/// their own: those from 0 up to about twice as many as there are elements
/// (0, 1, 2, … as most generators write them) in an array indexed by value,
/// which a million look-ups reach in order instead of hashing into a table
/// too big for the cache; other integers hashed as a machine word; anything
/// else as a ``HistoryValue``.
struct ElementIndex {
  private var dense: [Int32] = []  // value → number, -1 for none
  private var ints: [Int64: Int] = [:]
  private var others: [HistoryValue: Int] = [:]
  private var count = 0

  func id(of value: HistoryValue) -> Int? {
    if case .int(let i) = value { return id(of: i) }
    if case .double(let d) = value, let i = Int64(exactly: d) { return id(of: i) }
    return others[value]
  }

  private func id(of i: Int64) -> Int? {
    if i >= 0, i < dense.count {
      let n = dense[Int(i)]
      return n >= 0 ? Int(n) : nil
    }
    return ints[i]
  }

  mutating func insert(_ value: HistoryValue, _ id: Int) {
    count += 1
    if case .int(let i) = value {
      insert(i, id)
    } else if case .double(let d) = value, let i = Int64(exactly: d) {
      insert(i, id)
    } else {
      others[value] = id
    }
  }

  private mutating func insert(_ i: Int64, _ id: Int) {
    if i >= Int64(dense.count), i < Int64(2 * count + 1024), id <= Int(Int32.max) {
      // Grow the array (doubling), and move the integers it now covers out of the table.
      let size = Int(max(i + 1, Int64(2 * dense.count)))
      dense += [Int32](repeating: -1, count: size - dense.count)
      for (k, v) in ints where k >= 0 && k < Int64(size) {
        dense[Int(k)] = Int32(v)
        ints[k] = nil
      }
    }
    if i >= 0, i < Int64(dense.count), id <= Int(Int32.max) { dense[Int(i)] = Int32(id) } else { ints[i] = id }
  }
}

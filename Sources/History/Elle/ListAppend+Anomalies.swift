/// The list-append anomalies that need no cycle (`elle.list_append`'s
/// g1a-cases, g1b-cases, internal-cases, dirty-update-cases, duplicates,
/// incompatible-orders; `elle.txn`'s lost-update-cases).
extension ListAppend {
  func nonCycleAnomalies() -> [Anomaly] {
    var out: [Anomaly] = []
    out += abortedAndIntermediateReads()
    for t in txns where t.outcome == .ok {
      if let a = internalCase(t) { out.append(a) }
      if let a = futureRead(t) { out.append(a) }
    }
    out += duplicates()
    out += incompatibleOrders()
    out += dirtyUpdates()
    out += TransactionChecks.lostUpdates(txns, writes: .append)
    return out
  }

  static func mopData(_ t: Transaction, _ m: MicroOp) -> [String: HistoryValue] {
    ["op": t.json, "mop": .array([.string(m.kind.rawValue), m.key, m.value])]
  }

  /// G1a: an ok read saw an element a failed transaction appended. G1b: an
  /// ok read ended with an element another transaction appended but then
  /// followed with another append to the same key.
  func abortedAndIntermediateReads() -> [Anomaly] {
    var intermediate: [HistoryValue: [HistoryValue: Int]] = [:]
    var last: [(key: HistoryValue, element: HistoryValue)] = []  // a transaction's few keys: searched, not hashed
    for (i, t) in txns.enumerated() {
      last.removeAll(keepingCapacity: true)
      for m in t.mops where m.kind == .append {
        if let j = last.firstIndex(where: { $0.key == m.key }) {
          intermediate[m.key, default: [:]][last[j].element] = i
          last[j].element = m.value
        } else {
          last.append((m.key, m.value))
        }
      }
    }
    var failedKeys = Set<HistoryValue>()
    for t in txns where t.outcome == .fail { for m in t.mops where m.kind == .append { failedKeys.insert(m.key) } }
    var out: [Anomaly] = []
    guard !failedKeys.isEmpty || !intermediate.isEmpty else { return out }
    for (i, t) in txns.enumerated() where t.outcome == .ok {
      for m in t.mops where m.kind == .read {
        guard case .array(let list) = m.value else { continue }
        for e in failedKeys.contains(m.key) ? list : [] {
          guard let w = writer(m.key, e), txns[w].outcome == .fail else { continue }
          var d = Self.mopData(t, m)
          d["writer"] = txns[w].json
          d["element"] = e
          out.append(
            Anomaly(
              type: "G1a",
              text: ["\(t.name) read \(MicroOp.edn(e)) in key \(MicroOp.edn(m.key)), appended by \(txns[w].name), which failed"],
              data: .object(d)))
        }
        if let e = list.last, let w = intermediate[m.key]?[e], w != i {
          var d = Self.mopData(t, m)
          d["writer"] = txns[w].json
          d["element"] = e
          out.append(
            Anomaly(
              type: "G1b",
              text: [
                "\(t.name) read key \(MicroOp.edn(m.key)) ending in \(MicroOp.edn(e)), an intermediate state: \(txns[w].name) appended more to it"
              ],
              data: .object(d)))
        }
      }
    }
    return out
  }

  /// internal: a read disagrees with the transaction's own earlier read or appends of that key.
  func internalCase(_ t: Transaction) -> Anomaly? {
    // Per key: what the list must be (a known list, or a known tail after an unknown prefix).
    // A transaction has few keys: a list searched, not a dictionary hashed.
    var expected: [(key: HistoryValue, prefixKnown: Bool, list: [HistoryValue])] = []
    for m in t.mops {
      let j = expected.firstIndex { $0.key == m.key }
      switch m.kind {
      case .append:
        if let j { expected[j].list.append(m.value) } else { expected.append((m.key, false, [m.value])) }
      case .read:
        let got: [HistoryValue]
        if case .array(let a) = m.value { got = a } else { got = [] }
        guard let j else {
          expected.append((m.key, true, got))
          continue
        }
        let s = expected[j]
        let ok = s.prefixKnown ? s.list == got : (got.count >= s.list.count && got.suffix(s.list.count).elementsEqual(s.list))
        if !ok {
          let want = (s.prefixKnown ? "" : "... ") + s.list.map(MicroOp.edn).joined(separator: " ")
          var d = Self.mopData(t, m)
          d["expected"] = .array((s.prefixKnown ? [] : [.string("...")]) + s.list)
          return Anomaly(
            type: "internal",
            text: ["\(t.name) read \(Transaction.cut(m.text, 80)), but its own earlier micro-ops say [\(Transaction.cut(want, 60))]"],
            data: .object(d))
        }
        expected[j] = (m.key, true, got)
      case .write: continue
      }
    }
    return nil
  }

  /// future-read: a transaction read an element it appends only later.
  func futureRead(_ t: Transaction) -> Anomaly? {
    var reads: [MicroOp] = []  // the reads so far (a transaction has few)
    for m in t.mops {
      if m.kind == .read {
        reads.append(m)
      } else if m.kind == .append,
        let r = reads.first(where: { r in r.key == m.key && { if case .array(let a) = r.value { a.contains(m.value) } else { false } }() })
      {
        var d = Self.mopData(t, r)
        d["element"] = m.value
        return Anomaly(
          type: "future-read",
          text: ["\(t.name) read \(Transaction.cut(r.text, 80)) before appending \(MicroOp.edn(m.value)) itself"],
          data: .object(d))
      }
    }
    return nil
  }

  /// duplicate-elements: a read holds the same element twice.
  func duplicates() -> [Anomaly] {
    // A read that is a prefix of a key's longest read, itself without repeats, has none.
    var distinctLongest = Set<HistoryValue>()
    for (k, o) in order where sortedValues[k] == nil && o.count == longestLength[k] { distinctLongest.insert(k) }
    var out: [Anomaly] = []
    // Every key read with elements has a version order: when all are distinct, no read has repeats.
    guard distinctLongest.count < order.count else { return out }
    for t in txns where t.outcome != .fail {
      for m in t.mops where m.kind == .read {
        guard case .array(let a) = m.value, !a.isEmpty, !distinctLongest.contains(m.key) else { continue }
        var counts: [HistoryValue: Int] = [:]
        for e in a { counts[e, default: 0] += 1 }
        let dups = counts.filter { $0.value > 1 }
        guard !dups.isEmpty else { continue }
        var d = Self.mopData(t, m)
        d["duplicates"] = .object(Dictionary(uniqueKeysWithValues: dups.map { (MicroOp.edn($0.key), HistoryValue.int(Int64($0.value))) }))
        let list = dups.keys.map(MicroOp.edn).sorted().joined(separator: ", ")
        out.append(
          Anomaly(
            type: "duplicate-elements", text: ["\(t.name) read key \(MicroOp.edn(m.key)) with \(Transaction.cut(list, 60)) more than once"],
            data: .object(d)))
      }
    }
    return out
  }

  /// incompatible-order: two reads of a key that are not prefixes of one another.
  func incompatibleOrders() -> [Anomaly] {
    var out: [Anomaly] = []
    for (k, values) in sortedValues {
      for (a, b) in zip(values, values.dropFirst()) where !b.starts(with: a) {
        let show = { (l: [HistoryValue]) in Transaction.cut(MicroOp.edn(.array(l)), 70) }
        out.append(
          Anomaly(
            type: "incompatible-order",
            text: ["key \(MicroOp.edn(k)) was read as \(show(a)) and as \(show(b)): neither is a prefix of the other"],
            data: .object(["key": k, "values": .array([.array(a), .array(b)])])))
        break
      }
    }
    return out
  }

  /// dirty-update: along a key's version order, a committed append follows a failed one.
  func dirtyUpdates() -> [Anomaly] {
    var out: [Anomaly] = []
    // Only a key with a failed append can have one.
    var failedKeys = Set<HistoryValue>()
    for t in txns where t.outcome == .fail { for m in t.mops where m.kind == .append { failedKeys.insert(m.key) } }
    for k in failedKeys {
      guard let values = order[k] else { continue }
      var last: Transaction.Outcome = .ok
      var lastWriter: Int?
      var run: [HistoryValue] = []
      for v in values {
        guard let w = writer(k, v) else { continue }
        run.append(v)
        let now = txns[w].outcome
        switch (last, now) {
        case (.fail, .ok):
          let f = lastWriter.map { txns[$0].name } ?? "a failed transaction"
          out.append(
            Anomaly(
              type: "dirty-update",
              text: ["key \(MicroOp.edn(k)): \(txns[w].name) committed an append after \(f)'s, which failed"],
              data: .object(["key": k, "values": .array(run), "txns": .array([lastWriter.map { txns[$0].json } ?? .null, txns[w].json])])))
          (last, lastWriter, run) = (now, w, [v])
        case (_, .info): continue
        case (.fail, .fail): continue
        default: (last, lastWriter, run) = (now, w, [v])
        }
      }
    }
    return out
  }
}

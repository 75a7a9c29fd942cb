/// set-full's per-element outcomes, and the verdict and figures they make.
struct SetFullOutcomes {
  var elements: [HistoryValue]
  var stable: [Int] = []
  var stale: [(id: Int, latency: Int64)] = []
  var stableLatencies: [Int64] = []
  var lostIds: [Int] = []
  var lostLatencies: [Int64] = []
  var neverReadIds: [Int] = []

  init(elements: [HistoryValue]) { self.elements = elements }

  mutating func stable(_ id: Int, latency: Int64) {
    stable.append(id)
    stableLatencies.append(latency)
    if latency > 0 { stale.append((id, latency)) }
  }

  mutating func lost(_ id: Int, latency: Int64) {
    lostIds.append(id)
    lostLatencies.append(latency)
  }

  mutating func neverRead(_ id: Int) { neverReadIds.append(id) }

  /// Jepsen's quantiles (0, 0.5, 0.95, 0.99, 1) of latencies in milliseconds.
  static func quantiles(_ values: [Int64]) -> HistoryValue {
    guard !values.isEmpty else { return .null }
    let sorted = values.sorted()
    var q: [String: HistoryValue] = [:]
    for (name, p) in [("0", 0.0), ("0.5", 0.5), ("0.95", 0.95), ("0.99", 0.99), ("1", 1.0)] {
      q[name] = .int(sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))])
    }
    return .object(q)
  }

  func verdict(linearizable: Bool, duplicated: [HistoryValue: Int], reads: Int) -> Verdict {
    let valid: Verdict.Validity
    if !lostIds.isEmpty || !duplicated.isEmpty {
      valid = .invalid
    } else if stable.isEmpty {
      valid = .unknown
    } else if linearizable, !stale.isEmpty {
      valid = .invalid
    } else {
      valid = .valid
    }
    let lost = lostIds.map { elements[$0] }
    let neverRead = neverReadIds.map { elements[$0] }
    let staleValues = stale.map { elements[$0.id] }
    let worst = stale.sorted { ($0.latency, $1.id) > ($1.latency, $0.id) }.prefix(8)
    var lines: [String] = []
    if !lost.isEmpty { lines.append("Lost: \(ValueList.text(lost))") }
    if !duplicated.isEmpty { lines.append("Read more than once in one read: \(ValueList.text(duplicated.keys))") }
    if !staleValues.isEmpty { lines.append("Stale (missing from a read begun after they were known): \(ValueList.text(staleValues))") }
    if !neverRead.isEmpty { lines.append("Never read (no read began after they were known): \(ValueList.text(neverRead))") }
    if let w = worst.first { lines.append("Worst stale: \(elements[w.id].json) became stable \(w.latency) ms after it was known") }
    if stable.isEmpty { lines.append("No element is stable: nothing was seen to persist, so nothing is decided") }
    let summary =
      "\(elements.count) attempted, \(stable.count) stable, \(stale.count) stale, \(lostIds.count) lost, "
      + "\(neverReadIds.count) never read; \(reads) reads"
    let dupes = ValueList.sorted(duplicated.keys).map { HistoryValue.array([$0, .int(Int64(duplicated[$0]!))]) }
    return Verdict(
      valid: valid, model: .setFull, summary: summary, lines: lines,
      fields: [
        "attemptCount": .int(Int64(elements.count)), "stableCount": .int(Int64(stable.count)), "okCount": .int(Int64(stable.count)),
        "staleCount": .int(Int64(stale.count)), "lostCount": .int(Int64(lostIds.count)), "neverReadCount": .int(Int64(neverReadIds.count)),
        "duplicatedCount": .int(Int64(duplicated.count)), "lost": ValueList.json(lost), "stale": ValueList.json(staleValues),
        "neverRead": ValueList.json(neverRead), "duplicated": .array(dupes),
        "worstStale": .array(worst.map { .object(["element": elements[$0.id], "stableLatency": .int($0.latency)]) }),
        "stableLatencies": Self.quantiles(stableLatencies), "lostLatencies": Self.quantiles(lostLatencies),
        "linearizable": .bool(linearizable),
      ])
  }
}

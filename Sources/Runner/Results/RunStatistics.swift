import History

/// Counts and latency quantiles by `f`, from a history's operations.
enum RunStatistics {
  static func counts(_ ops: [ClientOperation]) -> [String: RunResults.Counts] {
    var out: [String: RunResults.Counts] = [:]
    for op in ops {
      switch op.outcome {
      case .ok: out[op.f, default: .init()].ok += 1
      case .fail: out[op.f, default: .init()].fail += 1
      case .unknown: out[op.f, default: .init()].info += 1
      }
    }
    return out
  }

  /// Milliseconds from invoke to completion, of the operations that completed (ok or fail).
  static func latency(_ ops: [ClientOperation]) -> [String: RunResults.Latency] {
    var by: [String: [Double]] = [:]
    for op in ops {
      guard let a = op.invokeTime, let b = op.completionTime, b >= a else { continue }
      by[op.f, default: []].append(Double(b - a) / 1e6)
    }
    return by.mapValues { all in
      let s = all.sorted()
      let q = { (p: Double) in s[min(s.count - 1, Int((p * Double(s.count)).rounded(.up)) - 1)] }
      return RunResults.Latency(p50: round3(q(0.5)), p95: round3(q(0.95)), p99: round3(q(0.99)), max: round3(s[s.count - 1]))
    }
  }

  static func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
}

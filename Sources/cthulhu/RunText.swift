import Foundation
import Manifest
import Runner

/// How `test` and `runs` say a run's results.
enum RunText {
  static func summary(_ r: RunResults, folder: RunFolder) -> String {
    var out = "\(r.workload): \(r.valid.word) (\(r.model))" + (r.interrupted ? ", interrupted" : "") + ", seed \(r.seed)\n"
    for f in r.counts.keys.sorted() {
      let c = r.counts[f]!
      var line = "  \(f): \(c.ok) ok, \(c.fail) fail, \(c.info) info"
      if let l = r.latency[f] { line += String(format: "; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms", l.p50, l.p99, l.max) }
      out += line + "\n"
    }
    if !r.faults.isEmpty { out += "  faults: \(r.faults.count)\n" }
    for p in r.properties where !p.passed { out += "  property failed: \(p.assert) \(p.id)\(p.reason.map { ": " + $0 } ?? "")\n" }
    for p in r.problems { out += "  \(p)\n" }
    return out + "Results: \(folder.path)\n"
  }
}

/// How `plan` shows the manifest's workloads.
enum WorkloadText {
  static func summary(_ workloads: [Workload]) -> String {
    var out = "Workloads (`cthulhu test --workload NAME`):\n"
    for w in workloads {
      let client: String
      switch w.client {
      case .process(let c): client = "client " + c.joined(separator: " ")
      case .perOperation(let c, _): client = "command " + c.joined(separator: " ") + " (one process per operation)"
      }
      let rate = w.rate.map { String(format: "%g/s", $0) } ?? "no rate limit"
      let keys = w.generator.hasKeys ? ", \(w.keys) keys" : ""
      out += "  \(w.name): \(w.generator.rawValue)\(keys), checked as \(w.checker); \(w.concurrency) workers, \(rate), "
      out += "\(Units.text(w.timeLimit)) then final_wait \(Units.text(w.finalWait)); timeout \(Units.text(w.timeout)); \(client)\n"
    }
    return out
  }
}

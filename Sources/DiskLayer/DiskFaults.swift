#if canImport(CFuse)
import Foundation
import Glibc
import Manifest
import Orchestrator

/// The delay and error rules in force in a layer, and what each did.
/// Behind a lock of its own: a FUSE operation asks for its ``Verdict``
/// before it takes the ledger's lock, and sleeps holding neither, so the
/// control socket answers during a delay.
final class DiskFaults: @unchecked Sendable {
  /// What one operation gets: a wait, then maybe an error instead of the operation.
  struct Verdict {
    var delay = Duration.zero
    /// A positive errno to return without carrying the operation out.
    var errno: Int32?
  }

  private struct Active {
    var status: DiskRuleStatus
    let pattern: NSRegularExpression?
    var random: SeededGenerator

    init(_ rule: DiskFaultRule) throws(DiskRuleError) {
      status = DiskRuleStatus(rule: rule)
      random = SeededGenerator(seed: rule.seed)
      do { pattern = try rule.path.map { try NSRegularExpression(pattern: $0) } } catch {
        throw DiskRuleError(rule: 1, field: "path", problem: "does not compile: \(error.localizedDescription)")
      }
    }
  }

  private let lock = NSLock()
  private var active: [Active] = []

  /// The verdict on `op`. `names` gives the paths it touches inside the
  /// mount (two for a rename or link), asked only if a rule has a path.
  /// Every rule that covers the operation and matches one of its paths
  /// draws once, in order, whatever the others drew: its draws depend on
  /// its seed and the operations it matched alone. The delays that drew
  /// add up; the first error that drew is returned.
  func verdict(_ op: DiskOperation, names: () -> [String]) -> Verdict {
    lock.lock()
    defer { lock.unlock() }
    var verdict = Verdict()
    guard !active.isEmpty else { return verdict }
    var paths: [String]?
    for i in active.indices where active[i].status.rule.covers(op) {
      if let pattern = active[i].pattern {
        let list = paths ?? names()
        paths = list
        let matches = list.contains { pattern.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
        guard matches else { continue }
      }
      active[i].status.matched += 1
      let rule = active[i].status.rule
      guard Double.random(in: 0..<100, using: &active[i].random) < rule.percent else { continue }
      switch rule.action {
      case .delay(let delay):
        verdict.delay += delay
        active[i].status.delayed += 1
      case .error(let errno) where verdict.errno == nil:
        verdict.errno = errno.number
        active[i].status.failed += 1
      case .error:
        break
      }
    }
    return verdict
  }

  /// Applies `change`, all or nothing. Returns the rules in force after a
  /// `set` or `add`, and the rules lifted, with what they did, after a `clear`.
  func change(_ change: DiskRulesChange) throws(DiskRuleError) -> [DiskRuleStatus] {
    var added: [Active] = []
    switch change {
    case .set(let rules), .add(let rules):
      for (n, rule) in rules.enumerated() {
        do { added.append(try Active(rule)) } catch { throw DiskRuleError(rule: n + 1, field: error.field, problem: error.problem) }
      }
    case .clear: break
    }
    lock.lock()
    defer { lock.unlock() }
    switch change {
    case .set:
      active = added
    case .add:
      active += added
    case .clear:
      let lifted = active.map(\.status)
      active = []
      return lifted
    }
    return active.map(\.status)
  }

  /// The rules in force, with what they did since they were set.
  func status() -> [DiskRuleStatus] {
    lock.lock()
    defer { lock.unlock() }
    return active.map(\.status)
  }

  /// Waits `delay`; a stop signal (which interrupts the sleep) cuts it short.
  static func wait(_ delay: Duration) {
    let (seconds, attoseconds) = delay.components
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0, errno == EINTR, !DiskLayerSignals.isStopping { request = remaining }
  }
}
#endif

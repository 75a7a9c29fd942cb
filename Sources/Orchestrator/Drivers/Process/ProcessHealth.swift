import Foundation

/// Health checks without a daemon. Docker runs a check every interval in
/// the background; cthulhu exits after each command, so the process driver
/// runs an instance's check when someone looks (`inspect`, `containers`)
/// and the last verdict is older than the interval, and records it.
///
/// Docker's semantics, approximated: exit 0 within `timeout` is healthy;
/// failures during `start_period` do not count; `retries` failures in a row
/// make it unhealthy. While `starting`, a look may run the check again
/// sooner (every 100 ms at most) so `apply` sees an instance healthy as soon
/// as it is, but a failure is counted at most once an interval, so the time
/// to `unhealthy` stays about `retries × interval`.
enum ProcessHealth {
  static let startingRecheck: TimeInterval = 0.1

  /// Whether a look at `now` should run the check.
  static func due(_ h: HealthRecord, spec: HealthcheckSpec, now: Date) -> Bool {
    guard let last = h.lastRun else { return true }
    let interval = Double(spec.interval) / 1e9
    let every = h.status == "starting" ? min(interval, startingRecheck) : interval
    return now.timeIntervalSince(last) >= every
  }

  /// The verdict after one run of the check that `passed` (or not) at `now`.
  static func next(_ h: HealthRecord, spec: HealthcheckSpec, passed: Bool, output: String, startedAt: Date?, now: Date) -> HealthRecord {
    var h = h
    h.lastRun = now
    h.lastOutput = String(output.suffix(500))
    if passed {
      h.status = "healthy"
      h.failures = 0
      h.lastCounted = nil
      return h
    }
    let inStartPeriod = startedAt.map { now.timeIntervalSince($0) < Double(spec.startPeriod) / 1e9 } ?? false
    if inStartPeriod && h.status == "starting" { return h }
    let interval = Double(spec.interval) / 1e9
    if h.lastCounted.map({ now.timeIntervalSince($0) >= interval * 0.9 }) ?? true {
      h.failures += 1
      h.lastCounted = now
    }
    if h.failures >= max(1, spec.retries) { h.status = "unhealthy" }
    return h
  }
}

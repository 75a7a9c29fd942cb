import Manifest

/// A workload of the manifest as `plan --json` shows it (under `workloads`):
/// what `cthulhu test --workload NAME` would run. Not part of the topology.
public struct WorkloadPlan: Codable, Sendable, Hashable {
  public var name: String
  public var generator: String
  public var keys: Int
  public var checker: String
  public var concurrency: Int
  /// Operations per second across workers; nil: no limit.
  public var rate: Double?
  public var timeLimitSeconds: Double
  public var finalWaitSeconds: Double
  public var timeoutSeconds: Double
  /// `process` (one client per worker) or `per-operation`.
  public var client: String
  public var command: [String]
  public var mix: [String: Int]

  public init(_ w: Workload) {
    name = w.name
    generator = w.generator.rawValue
    keys = w.keys
    checker = w.checker
    concurrency = w.concurrency
    rate = w.rate
    timeLimitSeconds = w.timeLimit.seconds
    finalWaitSeconds = w.finalWait.seconds
    timeoutSeconds = w.timeout.seconds
    if case .perOperation = w.client { client = "per-operation" } else { client = "process" }
    command = w.client.command
    mix = w.mix
  }
}

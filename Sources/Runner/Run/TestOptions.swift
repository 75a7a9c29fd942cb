import Foundation
import Synchronization

/// What `cthulhu test` may change of the manifest's workload, and how it is told to stop.
public struct TestOptions: Sendable {
  /// The workload to run (nil: the manifest's only one).
  public var workload: String?
  public var timeLimit: Duration?
  public var concurrency: Int?
  public var rate: Double?
  /// Seeds the operations and the nemesis (nil: a random seed, the nemesis's own).
  public var seed: UInt64?
  /// Set from a signal handler: the run stops cleanly and is marked interrupted.
  public var stop: StopSignal
  /// What the run is doing, for people (one line each).
  public var progress: @Sendable (String) -> Void

  public init(
    workload: String? = nil, timeLimit: Duration? = nil, concurrency: Int? = nil, rate: Double? = nil, seed: UInt64? = nil,
    stop: StopSignal = StopSignal(), progress: @escaping @Sendable (String) -> Void = { _ in }
  ) {
    self.workload = workload
    self.timeLimit = timeLimit
    self.concurrency = concurrency
    self.rate = rate
    self.seed = seed
    self.stop = stop
    self.progress = progress
  }
}

/// A flag a signal handler may set (Ctrl-C) and the run polls.
public final class StopSignal: Sendable {
  private let flag = Atomic<Bool>(false)
  public init() {}
  public func request() { flag.store(true, ordering: .relaxed) }
  public var requested: Bool { flag.load(ordering: .relaxed) }
}

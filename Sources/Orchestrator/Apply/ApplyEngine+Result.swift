import Foundation

extension ApplyEngine {
  /// What ``apply(_:options:observer:)`` did.
  public struct ApplyResult: Sendable {
    public var plan: Plan
    public var state: FixtureState
    /// Steps that failed, with their errors.
    public var failures: [(target: String, error: any Error)]
    /// Steps never started (a dependency failed, or the apply was interrupted).
    public var notStarted: [Step] = []
    /// An interrupt was requested: the steps in flight finished, no more started.
    public var interrupted = false
    /// The engine went away: the one error behind every failure (a step that
    /// failed because of it may say something else, such as a health check
    /// that saw its container stopped by a daemon shutting down).
    public var engineGone: DriverError?
    /// The plans run after `plan`, each made by a fresh look after steps
    /// failed in a way it could repair (see ``ApplyEngine/apply(_:options:observer:)``).
    public var replans: [Plan] = []
  }
}

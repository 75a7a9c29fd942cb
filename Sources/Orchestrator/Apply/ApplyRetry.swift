import Foundation

/// What the apply loop (`FixtureController.apply`) does with the failures
/// of a round of steps. Some failures can only be learned by trying: a
/// name taken after the plan looked (a killed apply's create that finished
/// in the engine), a start the engine refuses (a restarted dockerd's
/// leftovers, or a cause nobody foresaw). For those the loop observes the
/// fixture again and plans again, at most ``maxRounds`` rounds in all; the
/// Planner, given the instances whose start was refused, plans the repair
/// (`adopt`, `replace`). Everything else is reported.
enum ApplyRetry {
  /// Rounds of steps in one apply, the first included.
  static let maxRounds = 3
  /// How long a fresh look may wait for the engine to list what a failed
  /// create collided with (dockerd reserves a network's subnet before it
  /// lists the network).
  static let settle: Duration = .seconds(5)

  enum Verdict: Equatable {
    /// Not something a new plan repairs: the apply ends and says so.
    case report
    /// The engine would not start this instance's container: the next plan
    /// replaces it. A second refusal in the same apply is reported.
    case refused(instance: String)
    /// A fresh look explains it (a container removed outside cthulhu since the plan).
    case replan
    /// A create collided with something the engine may list only a moment
    /// later: look again until the plan for this step changes, or ``settle`` passes.
    case replanOnceSeen
    /// The engine would not start this instance's container because it
    /// holds its address for no container (``DriverError/Code/addressInUse``:
    /// a dockerd killed between allocating an address and recording its
    /// endpoint keeps it allocated, also after it restarts). Only a new
    /// network releases it: the next plan makes the network anew, with the
    /// same subnet, and every instance on it. A second time is reported.
    case addressHeld(instance: String)
  }

  /// The verdict on one failure; `refused`: instances refused earlier in this apply.
  static func verdict(_ f: Executor.Failure, refused: Set<String>) -> Verdict {
    guard let step = f.step, let e = f.error as? DriverError, !e.code.isTransport else { return .report }
    switch f.call {
    case .start?:
      // For any cause but the engine not answering: an unforeseen answer
      // must not leave a fixture that never converges.
      guard let name = step.target.instance, !refused.contains(name) else { return .report }
      return e.code == .addressInUse ? .addressHeld(instance: name) : .refused(instance: name)
    case .createContainer?, .createNetwork?:
      return e.code == .nameInUse || e.code == .conflict ? .replanOnceSeen : .report
    case nil:
      return e.code == .notFound ? .replan : .report
    }
  }

  /// True when `fresh` would do for `failed`'s target what `failed` did:
  /// planning again does not change it, so trying again would fail again.
  static func repeats(_ failed: Step, in fresh: Plan) -> Bool {
    guard let again = fresh.steps.first(where: { $0.target == failed.target }) else { return false }
    return again.action == failed.action && again.existing == failed.existing && again.resume == failed.resume
      && again.effect == failed.effect && again.detach == failed.detach && again.moves == failed.moves
  }
}

/// Passes progress on, and says which of the steps were the repair of a
/// refused start (``ApplyObserver/remade(_:because:)``).
struct RemakeReporter: ApplyObserver {
  let refusals: [String: any Error]
  let next: any ApplyObserver

  func started(_ step: Step) { next.started(step) }
  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    next.finished(step, after: after, error: error)
    if error == nil, step.recovery == .startRefused, let name = step.target.instance, let why = refusals[name] {
      next.remade(step, because: why)
    }
  }
  func replanned(_ plan: Plan) { next.replanned(plan) }
  func retrying(_ plan: Plan, after failures: [(target: String, error: any Error)]) { next.retrying(plan, after: failures) }
  func remade(_ step: Step, because error: any Error) { next.remade(step, because: error) }
  func memberChanged(_ step: Step, outcome: MembershipOutcome) { next.memberChanged(step, outcome: outcome) }
}

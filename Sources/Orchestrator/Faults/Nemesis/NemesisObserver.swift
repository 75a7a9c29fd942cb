import Foundation
import Manifest

/// Told of each step of a nemesis run in process (``NemesisRunner/runNemesis(root:observer:stopping:)``)
/// as it happens: `cthulhu test` writes each into the run's history as an
/// operation of the `nemesis` process, as Jepsen's nemesis appears in its
/// histories. Called on the nemesis's task, one call at a time, in order:
/// a start, then its end, before the next step starts. Keep it quick: the
/// step waits for it.
public protocol NemesisObserver: Sendable {
  /// A step is about to be carried out.
  func nemesisStepStarts(_ step: NemesisStepStart)
  /// It was carried out, or failed.
  func nemesisStepEnded(_ step: NemesisStepEnd)
}

/// A step of the schedule about to be carried out.
public struct NemesisStepStart: Sendable, Hashable {
  public enum Phase: Sendable, Hashable {
    /// An occurrence is put in force.
    case fault
    /// An occurrence in force is healed.
    case heal
  }

  /// `2.1`: the second entry's first occurrence (both from 1).
  public var label: String
  public var phase: Phase
  /// The fault, as the manifest declares it.
  public var action: NemesisFault.Action
  /// The instances it is meant for (empty when a command chooses them as the step runs).
  public var targets: [String]
  /// In words: `partition (majority) {i001,i002} | {i003}`, `start i002`.
  public var summary: String

  public init(label: String, phase: Phase, action: NemesisFault.Action, targets: [String], summary: String) {
    self.label = label
    self.phase = phase
    self.action = action
    self.targets = targets
    self.summary = summary
  }
}

/// How a step went.
public struct NemesisStepEnd: Sendable, Hashable {
  public enum Outcome: Sendable, Hashable {
    /// It took effect: the fault is in force, or healed.
    case ok
    /// It did not, or only in part (`targets` are those it reached): why.
    case failed(String)
  }

  public var step: NemesisStepStart
  public var outcome: Outcome
  /// The instances it acted on.
  public var targets: [String]
  /// The network fault it made or lifted (`f3`, as `cthulhu faults` lists
  /// it); nil for a process fault.
  public var faultID: String?
  /// In words, with the fault's id when it has one.
  public var summary: String
  /// A `grow` or `shrink`: the change made (or skipped at its bound).
  public var change: GroupChange?

  public init(
    step: NemesisStepStart, outcome: Outcome, targets: [String], faultID: String? = nil, summary: String, change: GroupChange? = nil
  ) {
    self.step = step
    self.outcome = outcome
    self.targets = targets
    self.faultID = faultID
    self.summary = summary
    self.change = change
  }

  /// The step as the nemesis record keeps it, begun at `time`.
  func done(at time: Date) -> NemesisRecord.Done {
    var error: String?
    if case .failed(let why) = outcome { error = why }
    return NemesisRecord.Done(
      time: time, label: step.label, action: step.phase == .fault ? "fault" : "heal", kind: step.action.keyword, targets: targets,
      faultID: faultID, outcome: error == nil ? "ok" : "failed", summary: summary, error: error)
  }
}

import Foundation
import Manifest

/// One delay or error rule of a disk layer: which operations on which paths
/// it applies to, and how often. A rule is checked when it is made (in
/// Swift, or as it is decoded from a request), so a layer only ever holds
/// rules it can apply. The JSON spelling is in docs/disk-faults.md.
public struct DiskFaultRule: Sendable, Hashable {
  /// What the rule does to an operation it applies to.
  public enum Action: Sendable, Hashable {
    /// Waits this long, then carries the operation out.
    case delay(Duration)
    /// Returns this error without carrying the operation out.
    case error(DiskErrno)
  }

  /// Longest delay a rule may hold an operation.
  public static let longestDelay = Duration.seconds(3600)

  public let action: Action
  /// The operations it applies to, sorted; nil: every one.
  public let ops: [DiskOperation]?
  /// A regular expression (NSRegularExpression, searched: anchor it with
  /// `^` and `$`) over the path inside the mount (`/wal/000001.log`); nil:
  /// every path.
  public let path: String?
  /// Of the operations it matches, the share it applies to, 0 to 100.
  public let percent: Double
  /// Seeds the draws that pick that share: the same seed and the same
  /// operations in the same order pick the same ones.
  public let seed: UInt64

  /// A rule, checked: a delay from 0 to an hour, a non-empty list of
  /// operations, a path that compiles, a percent from 0 to 100. `rule` is
  /// its number in the request (1-based), for the error.
  public init(
    _ action: Action, ops: [DiskOperation]? = nil, path: String? = nil, percent: Double = 100, seed: UInt64 = 0, rule: Int = 1
  ) throws(DiskRuleError) {
    if case .delay(let delay) = action, delay < .zero || delay > Self.longestDelay {
      throw DiskRuleError(rule: rule, field: "delay", problem: "\(Units.text(delay)) is not from 0 to \(Units.text(Self.longestDelay))")
    }
    if let ops, ops.isEmpty {
      throw DiskRuleError(rule: rule, field: "ops", problem: "the list is empty; leave the field out for every operation")
    }
    if let path {
      do { _ = try NSRegularExpression(pattern: path) } catch {
        throw DiskRuleError(rule: rule, field: "path", problem: "\"\(path)\" is not a regular expression (\(error.localizedDescription))")
      }
    }
    guard percent.isFinite, percent >= 0, percent <= 100 else {
      throw DiskRuleError(rule: rule, field: "percent", problem: "\(percent) is not from 0 to 100")
    }
    self.action = action
    self.ops = ops.map { Array(Set($0)).sorted() }
    self.path = path
    self.percent = percent
    self.seed = seed
  }

  /// The rule of a nemesis step, which the manifest's decoder checked as
  /// the initializer above checks one (seed 0: each layer mixes in its own).
  init(nemesis r: NemesisDiskRule) {
    action = r.errno.map { .error($0) } ?? .delay(r.delay ?? .zero)
    ops = r.ops.map { Array(Set($0)).sorted() }
    path = r.path
    percent = r.percent
    seed = 0
  }

  /// Whether the rule applies to operation `op` (before its path and percent).
  public func covers(_ op: DiskOperation) -> Bool { ops?.contains(op) ?? true }
}

/// A rule that cannot be made: which one (its number in the request,
/// from 1), which field, and why. The layer refuses the whole request.
public struct DiskRuleError: Error, Sendable, Equatable, CustomStringConvertible {
  public var rule: Int
  public var field: String
  public var problem: String

  public init(rule: Int, field: String, problem: String) {
    self.rule = rule
    self.field = field
    self.problem = problem
  }

  public var description: String { "rule \(rule), \"\(field)\": \(problem)" }
}

/// A change to a layer's rules: `{"set":[…]}` replaces them all (their
/// counts start from 0), `{"add":[…]}` appends to them, `{"clear":{}}`
/// removes them all.
public enum DiskRulesChange: Sendable, Equatable {
  case set([DiskFaultRule])
  case add([DiskFaultRule])
  case clear
}

/// A rule in force and what it did since it was set.
public struct DiskRuleStatus: Codable, Sendable, Equatable {
  public var rule: DiskFaultRule
  /// Operations whose name and path it matched (before the percent's draw).
  public var matched: Int
  /// Operations it delayed (a delay rule).
  public var delayed: Int
  /// Operations it failed (an error rule; an operation two error rules
  /// would fail counts for the first).
  public var failed: Int

  public init(rule: DiskFaultRule, matched: Int = 0, delayed: Int = 0, failed: Int = 0) {
    self.rule = rule
    self.matched = matched
    self.delayed = delayed
    self.failed = failed
  }
}

import Foundation
import History

/// `results.json` of a run: what a run found, for people, CI and the report.
public struct RunResults: Codable, Sendable, Hashable {
  public var formatVersion = 1
  public var workload: String
  /// The verdict: the checker's, and the properties' (a failed property makes it false).
  public var valid: Validity
  /// The checker's model.
  public var model: String
  /// Ctrl-C (or SIGTERM) ended the run before its time.
  public var interrupted: Bool
  /// The seed of the operations and of the nemesis's draws.
  public var seed: UInt64
  public var startedAt: Date
  public var endedAt: Date
  /// The history's clock (CLOCK_MONOTONIC, ns) at `startedAt`: the faults'
  /// seconds count from there (the report aligns operations with them).
  public var monotonicStartNs: UInt64?
  /// ok / fail / info by `f`.
  public var counts: [String: Counts]
  /// Latency quantiles by `f`, in milliseconds (completed operations only).
  public var latency: [String: Latency]
  /// The nemesis's faults, in seconds from the run's start.
  public var faults: [FaultPeriod]
  /// The checker's own JSON.
  public var checker: HistoryValue
  /// What the system said about itself (`CTHULHU_ASSERTIONS`).
  public var properties: [Property]
  /// Why the verdict is unknown, or what went wrong around the check.
  public var problems: [String]

  public init(
    workload: String, valid: Validity, model: String, interrupted: Bool, seed: UInt64, startedAt: Date, endedAt: Date,
    counts: [String: Counts] = [:], latency: [String: Latency] = [:], faults: [FaultPeriod] = [], checker: HistoryValue = .null,
    properties: [Property] = [], problems: [String] = []
  ) {
    self.workload = workload
    self.valid = valid
    self.model = model
    self.interrupted = interrupted
    self.seed = seed
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.counts = counts
    self.latency = latency
    self.faults = faults
    self.checker = checker
    self.properties = properties
    self.problems = problems
  }

  public struct Counts: Codable, Sendable, Hashable {
    public var ok = 0
    public var fail = 0
    public var info = 0
    public init(ok: Int = 0, fail: Int = 0, info: Int = 0) {
      self.ok = ok
      self.fail = fail
      self.info = info
    }
  }

  public struct Latency: Codable, Sendable, Hashable {
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double
    public init(p50: Double, p95: Double, p99: Double, max: Double) {
      self.p50 = p50
      self.p95 = p95
      self.p99 = p99
      self.max = max
    }
  }

  /// A fault in force from `start` to `end` (seconds from the run's start;
  /// `end` nil when it was never healed within the run).
  public struct FaultPeriod: Codable, Sendable, Hashable {
    public var name: String
    public var start: Double
    public var end: Double?
    public init(name: String, start: Double, end: Double?) {
      self.name = name
      self.start = start
      self.end = end
    }
  }

  /// One property the system under test stated (`{"assert": …, "id": …}`).
  public struct Property: Codable, Sendable, Hashable {
    public var id: String
    /// `always`, `sometimes`, `reachable` or `unreachable`.
    public var assert: String
    /// Lines seen, and of them those with `condition: true`.
    public var hits: Int
    public var satisfied: Int
    public var passed: Bool
    /// Why it failed, in words.
    public var reason: String?
    /// The line that decided it (the first that failed it, else the first
    /// hit), `file:line`, and the `details` it carried.
    public var at: String?
    public var details: HistoryValue?
    public init(
      id: String, assert: String, hits: Int, satisfied: Int, passed: Bool, reason: String? = nil, at: String? = nil, details: HistoryValue? = nil
    ) {
      self.id = id
      self.assert = assert
      self.hits = hits
      self.satisfied = satisfied
      self.passed = passed
      self.reason = reason
      self.at = at
      self.details = details
    }
  }

  /// The exit status of `cthulhu test`: 0 valid, 2 invalid, 1 unknown.
  public var exitCode: Int32 {
    switch valid {
    case .valid: 0
    case .invalid: 2
    case .unknown: 1
    }
  }

  /// The encoder of results.json: sorted keys, ISO-8601 UTC times.
  public static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    return e
  }()

  public static let decoder: JSONDecoder = {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .iso8601
    return d
  }()
}

/// `true`, `false` or `"unknown"` in JSON.
public enum Validity: Sendable, Hashable, Codable {
  case valid
  case invalid
  /// The checker could not decide (time ran out, a model it lacks, no final read…).
  case unknown

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let b = try? c.decode(Bool.self) {
      self = b ? .valid : .invalid
    } else if let s = try? c.decode(String.self), s == "unknown" {
      self = .unknown
    } else {
      throw DecodingError.dataCorruptedError(in: c, debugDescription: "valid must be true, false or \"unknown\"")
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .valid: try c.encode(true)
    case .invalid: try c.encode(false)
    case .unknown: try c.encode("unknown")
    }
  }

  /// Both must hold: invalid beats unknown, unknown beats valid.
  public func and(_ other: Validity) -> Validity {
    if self == .invalid || other == .invalid { return .invalid }
    if self == .unknown || other == .unknown { return .unknown }
    return .valid
  }

  /// `valid`, `INVALID`, `unknown`: as `cthulhu runs` prints it.
  public var word: String {
    switch self {
    case .valid: "valid"
    case .invalid: "INVALID"
    case .unknown: "unknown"
    }
  }
}

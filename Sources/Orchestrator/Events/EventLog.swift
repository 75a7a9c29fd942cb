import Foundation
import Manifest
import Synchronization

/// One line of `<fixture>/events.jsonl`: what happened, to what, when, and how it ended.
///
/// The typed fields (`kind`, `result`, `error`, `fault`, `lifted`) are for
/// programs: the events page and any tool read those. `action` and `outcome`
/// are the same facts in words for people (`cthulhu events`); their wording
/// may change and nothing parses them.
public struct Event: Codable, Sendable, Hashable {
  /// The version of this line's shape. 2: the typed fields; lines without
  /// `format` were written before them (1) and have only the words.
  public static let currentFormat = 2

  /// What kind of thing happened.
  public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
    /// An apply step (create, start, replace, …; `action` names it).
    case step
    /// Apply planned again after steps failed.
    case replan
    /// A step redone from scratch after an unforeseen error.
    case remake
    /// start, stop, restart, kill, pause, resume of instances.
    case lifecycle
    /// `cthulhu reset`.
    case reset
    /// A fault put in force (`fault` is its id), or a refused fault change.
    case fault
    /// Recorded faults put back into fresh namespaces.
    case reapply
    /// Faults lifted by id (`lifted`).
    case lift
    /// Faults lifted because their `--for` ran out (`lifted`).
    case expire
    /// `heal`: every fault on the targets lifted or narrowed (`lifted`: those lifted entirely).
    case heal
    /// `clock reset`: clock skews lifted (`lifted`).
    case clockReset = "clock reset"
    /// `disk corrupt`: files at rest changed (`detail` says which bytes).
    case corrupt = "disk corrupt"
    case nemesisStart = "nemesis start"
    /// A nemesis step that put a fault in force (or failed to).
    case nemesisFault = "nemesis fault"
    /// A nemesis step that healed its fault.
    case nemesisHeal = "nemesis heal"
    /// The nemesis ran out of steps.
    case nemesisEnd = "nemesis end"
    /// The nemesis was stopped and healed what it caused.
    case nemesisStop = "nemesis stop"
    /// A membership change (`join`, `leave`) of an instance: how it ended
    /// (`detail`: committed, pending after an attempt, resolved by the view).
    case membership
    /// A kind this version does not know (a line written by a newer cthulhu).
    case other

    public init(from decoder: any Decoder) throws {
      self = Kind(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .other
    }
  }

  public enum Result: String, Codable, Sendable, Hashable {
    case ok, failed
  }

  /// Wall-clock time (ISO 8601, UTC).
  public var time: Date
  /// Seconds since boot (CLOCK_MONOTONIC): orders events even if the wall clock jumps.
  public var monotonic: Double
  /// Who did it: `apply`, `control`, `destroy`, …, with the process id.
  public var actor: String
  /// For people: `create`, `partition f3`, `nemesis fault 1.2`, `heal`.
  public var action: String
  public var targets: [String]
  /// For people: `ok`, `ok: <detail>` or `failed: <reason>`.
  public var outcome: String
  /// What a success did, for people (`outcome` without its `ok: `).
  public var detail: String?
  /// Seconds the action took, when it has a duration.
  public var seconds: Double?
  /// `currentFormat` when written by this version; nil on lines written before the typed fields.
  public var format: Int?
  public var kind: Kind?
  public var result: Result?
  /// Why it failed (with `result` failed).
  public var error: String?
  /// The id of the fault this event put in force (`f3`).
  public var fault: String?
  /// The ids of the faults this event lifted.
  public var lifted: [String]?
  /// The instances it acted on (`targets` may name other things: a network,
  /// an image, `all`).
  public var instances: [String]?

  /// Something that succeeded; `detail` says what it did, for people.
  public init(
    actor: String, kind: Kind, action: String, targets: [String], instances: [String]? = nil, detail: String? = nil, seconds: Double? = nil,
    fault: String? = nil, lifted: [String]? = nil
  ) {
    (time, monotonic) = Self.now()
    self.actor = actor
    self.kind = kind
    self.action = action
    self.targets = targets
    self.result = .ok
    self.outcome = detail.map { "ok: \($0)" } ?? "ok"
    self.detail = detail
    self.instances = instances
    self.seconds = seconds
    self.fault = fault
    self.lifted = lifted
    self.format = Self.currentFormat
  }

  /// Something that failed, and why.
  public init(
    actor: String, kind: Kind, action: String, targets: [String], instances: [String]? = nil, failed reason: String, seconds: Double? = nil
  ) {
    (time, monotonic) = Self.now()
    self.actor = actor
    self.kind = kind
    self.action = action
    self.targets = targets
    self.result = .failed
    self.error = reason
    self.outcome = "failed: \(reason)"
    self.instances = instances
    self.seconds = seconds
    self.format = Self.currentFormat
  }

  /// Whether it failed (false on lines of format 1, which have only the words).
  public var failed: Bool { result == .failed }

  /// The wall-clock and monotonic times of now.
  static func now() -> (Date, Double) {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return (Date(), Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
  }
}

/// Appends events to the fixture's `events.jsonl`, one JSON object a line.
/// Each line is one `write` on an `O_APPEND` descriptor, so concurrent
/// writers (an apply and a control script) never interleave within a line.
public struct EventLog: Sendable {
  public let path: String
  public init(root: String) { path = FixturePaths(root: root).events }

  /// Stamps the event with the time of its append and appends it. The stamp
  /// and the write happen under one lock, so the lines this process writes
  /// are in the order of their times (two steps finishing together on two
  /// threads would otherwise write their lines the other way round).
  public func append(_ event: Event) {
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }  // the fixture folder is gone (destroy): nothing to record into
    defer { close(fd) }
    Self.order.withLock { _ in
      var event = event
      (event.time, event.monotonic) = Event.now()
      guard var line = try? Self.encoder.encode(event) else { return }
      line.append(UInt8(ascii: "\n"))
      _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
  }

  /// Held from an event's stamp to its write.
  private static let order = Mutex(())

  /// One encoder for every append (encoding with it is safe from any thread).
  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder.cthulhuMilliseconds
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  /// The log's lines as they are in the file (for `events --json`).
  public func rawLines() -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return data.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Every event so far (unreadable lines are skipped).
  public func read() -> [Event] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let decoder = JSONDecoder.cthulhuMilliseconds
    return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(Event.self, from: Data($0)) }
  }

  /// A timeline line: `12:00:01.234  apply  create  instance:i001  ok (0.52s)`.
  public static func format(_ e: Event) -> String {
    let took = e.seconds.map { String(format: " (%.2fs)", $0) } ?? ""
    return "\(TimeText.clock(e.time))  \(e.actor)  \(e.action)  \(e.targets.joined(separator: ","))  \(e.outcome)\(took)"
  }
}

/// Records each apply step in the event log, then passes it on.
struct LoggingObserver: ApplyObserver {
  let log: EventLog
  let next: (any ApplyObserver)?

  func started(_ step: Step) { next?.started(step) }

  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    log.append(
      error.map {
        Event(
          actor: "apply[\(getpid())]", kind: .step, action: step.action.rawValue, targets: [step.target.description],
          instances: step.target.instance.map { [$0] }, failed: "\($0)",
          seconds: after.seconds)
      }
        ?? Event(
          actor: "apply[\(getpid())]", kind: .step, action: step.action.rawValue, targets: [step.target.description],
          instances: step.target.instance.map { [$0] }, seconds: after.seconds))
    next?.finished(step, after: after, error: error)
  }

  func replanned(_ plan: Plan) { next?.replanned(plan) }

  func retrying(_ plan: Plan, after failures: [(target: String, error: any Error)]) {
    log.append(
      Event(
        actor: "apply[\(getpid())]", kind: .replan, action: "replan", targets: failures.map(\.target),
        detail: "\(plan.steps.count) step(s) planned again after: " + failures.map { "\($0.error)" }.joined(separator: "; ")))
    next?.retrying(plan, after: failures)
  }

  func remade(_ step: Step, because error: any Error) {
    log.append(
      Event(
        actor: "apply[\(getpid())]", kind: .remake, action: "remake", targets: [step.target.description],
        instances: step.target.instance.map { [$0] }, detail: "\(error)"))
    next?.remade(step, because: error)
  }

  func memberChanged(_ step: Step, outcome: MembershipOutcome) { next?.memberChanged(step, outcome: outcome) }
}

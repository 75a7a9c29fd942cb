import Foundation
import Synchronization

/// One line of `<fixture>/events.jsonl`: what happened, to what, when, and how it ended.
public struct Event: Codable, Sendable, Hashable {
  /// Wall-clock time (ISO 8601, UTC).
  public var time: Date
  /// Seconds since boot (CLOCK_MONOTONIC): orders events even if the wall clock jumps.
  public var monotonic: Double
  /// Who did it: `apply`, `control`, `destroy`, …, with the process id.
  public var actor: String
  public var action: String
  public var targets: [String]
  /// `ok`, or `failed: <reason>`; for a `remake`, `ok: <why it was needed>`.
  public var outcome: String
  /// Seconds the action took, when it has a duration.
  public var seconds: Double?

  public init(actor: String, action: String, targets: [String], outcome: String, seconds: Double? = nil) {
    (time, monotonic) = Self.now()
    self.actor = actor
    self.action = action
    self.targets = targets
    self.outcome = outcome
    self.seconds = seconds
  }

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

  /// One formatter for every append: making one cost more than the rest of
  /// an append (an apply appends an event per step). The lock: a formatter
  /// is not safe to share between threads.
  private static let stamps = Mutex(timestamp())

  /// One encoder too (encoding with it is safe from any thread).
  private static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .custom { date, enc in
      var c = enc.singleValueContainer()
      try c.encode(stamps.withLock { $0.string(from: date) })
    }
    return encoder
  }()

  /// The wall-clock format of `time`: ISO 8601, UTC, milliseconds.
  static func timestamp() -> ISO8601DateFormatter {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f
  }

  /// The log's lines as they are in the file (for `events --json`).
  public func rawLines() -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return data.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Every event so far (unreadable lines are skipped).
  public func read() -> [Event] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .custom { dec in
      let s = try dec.singleValueContainer().decode(String.self)
      guard let d = Self.timestamp().date(from: s) else { throw DecodingError.dataCorrupted(.init(codingPath: dec.codingPath, debugDescription: s)) }
      return d
    }
    return data.split(separator: UInt8(ascii: "\n")).compactMap { try? decoder.decode(Event.self, from: Data($0)) }
  }

  /// A timeline line: `12:00:01.234  apply  create  instance:i001  ok (0.52s)`.
  public static func format(_ e: Event) -> String {
    let f = DateFormatter()
    f.dateFormat = "HH:mm:ss.SSS"
    f.timeZone = TimeZone(identifier: "UTC")
    let took = e.seconds.map { String(format: " (%.2fs)", $0) } ?? ""
    return "\(f.string(from: e.time))  \(e.actor)  \(e.action)  \(e.targets.joined(separator: ","))  \(e.outcome)\(took)"
  }
}

/// Records each apply step in the event log, then passes it on.
struct LoggingObserver: ApplyObserver {
  let log: EventLog
  let next: (any ApplyObserver)?

  func started(_ step: Step) { next?.started(step) }

  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    let (s, a) = after.components
    log.append(
      Event(
        actor: "apply[\(getpid())]", action: step.action.rawValue, targets: [step.target.description],
        outcome: error.map { "failed: \($0)" } ?? "ok", seconds: Double(s) + Double(a) / 1e18))
    next?.finished(step, after: after, error: error)
  }

  func replanned(_ plan: Plan) { next?.replanned(plan) }

  func retrying(_ plan: Plan, after failures: [(target: String, error: any Error)]) {
    log.append(
      Event(
        actor: "apply[\(getpid())]", action: "replan", targets: failures.map(\.target),
        outcome: "ok: \(plan.steps.count) step(s) planned again after: " + failures.map { "\($0.error)" }.joined(separator: "; ")))
    next?.retrying(plan, after: failures)
  }

  func remade(_ step: Step, because error: any Error) {
    log.append(Event(actor: "apply[\(getpid())]", action: "remake", targets: [step.target.description], outcome: "ok: \(error)"))
    next?.remade(step, because: error)
  }
}

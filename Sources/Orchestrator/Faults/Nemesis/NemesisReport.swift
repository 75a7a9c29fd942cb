import Foundation
import Manifest

// MARK: - The schedule as data: `cthulhu plan --json`'s `nemesis`

/// A manifest's nemesis schedule as `plan --json` prints it (its `nemesis`
/// key): each entry's fault and timing, and the first steps with what the
/// seed draws for them, the same as the text plan shows.
public struct NemesisPlan: Codable, Sendable, Hashable {
  public var seed: UInt64
  public var faults: [Entry]
  /// The first steps of the schedule, over the instances a fresh apply makes.
  public var firstSteps: [Step]
  /// The schedule has more steps than `firstSteps` (or goes on until stopped).
  public var moreSteps: Bool

  /// One entry of `nemesis.faults`.
  public struct Entry: Codable, Sendable, Hashable {
    /// The manifest key: `partition`, `isolate`, `loss`, `duplicate`, `rate`, `delay`, `kill`, `crash`, `pause`, `stop`, `clock`,
    /// `disk_error`, `disk_delay`, `grow`, `shrink`.
    public var kind: String
    /// `partition`: `halves`, `majority`, `majorities-ring`, `bridge`.
    public var shape: String?
    /// `loss`: percent of arriving packets dropped; `duplicate`: percent copied.
    public var percent: Double?
    /// `rate`: bits per second.
    public var bitsPerSecond: Int64?
    /// `delay`: milliseconds, jitter and distribution (`normal` when nil).
    public var delayMs: Double?
    public var jitterMs: Double?
    public var distribution: String?
    /// `delay`: percent of packets let through at once, ahead of the held ones.
    public var reorderPercent: Double?
    /// `kill`: the signal's canonical name.
    public var signal: String?
    /// `clock`: seconds the clock moves by.
    public var skewSeconds: Double?
    /// A crash's `torn`.
    public var torn: Bool?
    /// `disk_error`: the error's name (`ENOSPC`); `disk_delay` gives `delayMs`;
    /// both: the operations and path (nil: every one) and `percent`.
    public var errno: String?
    public var ops: [String]?
    public var path: String?
    /// `grow`, `shrink`: the group, and its bound (`max` for a grow, `min` for a shrink).
    public var group: String?
    public var max: Int?
    public var min: Int?
    /// The targets as the manifest wrote them: `all`, `i002`, `random 2 of server`.
    public var targets: String
    /// The pool (names, groups, globs, `all`) and, for `random N`, N.
    public var targetWords: [String]
    /// `targets: { command: [...] }`: the program (its path absolute) that
    /// prints the targets when each occurrence starts (`targetWords` is then empty).
    public var targetCommand: [String]?
    public var random: Int?
    /// Milliseconds from `nemesis start` to the first occurrence.
    public var afterMs: Int64
    /// How long each occurrence lasts (the manifest's `for`; 0 for a membership change).
    public var forMs: Int64
    /// Repeat period; nil: once.
    public var everyMs: Int64?
    /// Occurrences in all; nil with `everyMs`: until stopped.
    public var times: Int?
    /// The line the text plan shows for its fault: `partition majority`, `delay 100ms ±30ms`.
    public var summary: String
  }

  /// One step of the schedule: an occurrence put in force, or healed.
  public struct Step: Codable, Sendable, Hashable {
    /// Milliseconds from `nemesis start`.
    public var atMs: Int64
    /// `2.1`: the second entry's first occurrence (both from 1).
    public var label: String
    /// `fault` or `heal`.
    public var action: String
    /// The instances it acts on, as the seed draws them.
    public var targets: [String]
    /// For people: `partition (majority) {i003,i005} | {i001,i002,i004}`, `start i002`.
    public var summary: String
  }
}

extension NemesisTimeline {
  /// The schedule as data, with its first `firstSteps` steps.
  public func plan(firstSteps: Int = 8) -> NemesisPlan {
    var it = self
    var steps: [NemesisPlan.Step] = []
    while steps.count < firstSteps, let s = it.next() {
      let f = schedule.faults[s.entry]
      // Targets a command chooses are shown as the command, to be run then.
      let shown = f.targets.command.map { ["‹" + $0.map { ($0 as NSString).lastPathComponent }.joined(separator: " ") + "›"] } ?? s.names
      steps.append(
        .init(
          atMs: s.atMs, label: s.label, action: s.heal ? "heal" : "fault", targets: s.names,
          summary: s.heal ? f.action.describeHeal(shown) : f.action.describe(shown)))
    }
    return NemesisPlan(seed: schedule.seed, faults: schedule.faults.map(NemesisPlan.Entry.init), firstSteps: steps, moreSteps: it.next() != nil)
  }
}

extension NemesisPlan.Entry {
  init(_ f: NemesisFault) {
    kind = f.action.keyword
    switch f.action {
    case .partition(let s):
      shape = s.rawValue
      summary = "partition \(s.rawValue)"
    default:
      summary = f.action.describe([]).trimmingCharacters(in: .whitespaces)
    }
    switch f.action {
    case .loss(let p), .duplicate(let p): percent = p
    case .rate(let bits): bitsPerSecond = bits
    case .delay(let ms, let jitter, let d, let reorder):
      delayMs = ms
      jitterMs = jitter
      distribution = d
      reorderPercent = reorder
    case .kill(let s): signal = s
    case .clock(let s): skewSeconds = s
    case .crash(let t): torn = t
    case .disk(let r):
      errno = r.errno?.name
      delayMs = r.delay?.milliseconds
      ops = r.ops?.map(\.rawValue)
      path = r.path
      percent = r.percent
    case .grow(let g, let m):
      group = g
      max = m
    case .shrink(let g, let m):
      group = g
      min = m
    case .partition, .isolate, .pause, .stop: break
    }
    targets = f.targets.description
    targetWords = f.targets.words
    targetCommand = f.targets.command
    random = f.targets.random
    afterMs = f.after.wholeMilliseconds
    forMs = f.lasting.wholeMilliseconds
    everyMs = f.every?.wholeMilliseconds
    times = f.occurrences
  }
}

// MARK: - What it is doing: `cthulhu nemesis status --json`

/// `cthulhu nemesis status --json`: the nemesis of a fixture as data, its
/// times in UTC to the millisecond (as `events.jsonl`'s). Versioned: a key's meaning never changes within a format version; keys
/// may be added.
public struct NemesisStatusReport: Codable, Sendable, Hashable {
  public static let currentFormatVersion = 1
  public var formatVersion = Self.currentFormatVersion
  /// `running`; `finished` (its last step ran); `stopped` (`nemesis stop`);
  /// `died` (its process ended otherwise: killed); `none` (never started on this fixture).
  public var state: String
  /// Its process is alive.
  public var running: Bool
  /// The `cthulhu _nemesis` process, while it runs (and, when it died, the one that did).
  public var pid: Int32?
  public var seed: UInt64?
  /// Step times are counted from this moment.
  public var startedAt: Date?
  /// When it finished or was stopped.
  public var endedAt: Date?
  /// Steps done in all.
  public var stepsDone: Int
  /// The steps done, oldest first (the last ``NemesisRecord/doneKept`` of them).
  public var steps: [NemesisRecord.Done]
  /// The step it waits for, while it runs.
  public var next: Next?
  /// The occurrences it holds in force now, each healed at `healAt`.
  public var inForce: [Held]
  /// The network faults tagged as the nemesis's in the fault book now (as `cthulhu faults --json` lists them).
  public var faults: [Fault]
  /// The last step that failed, and why.
  public var lastError: String?
  /// The `cthulhu test` run that drives it in process (`pid` is then that
  /// run's), while that run is alive; absent for a `nemesis start`.
  public var run: NemesisRunRecord?

  public struct Next: Codable, Sendable, Hashable {
    public var at: Date
    public var label: String
    /// `fault` or `heal`; nil in a record written before cthulhu recorded it.
    public var action: String?
    public var targets: [String]?
    public var summary: String
  }

  public struct Held: Codable, Sendable, Hashable {
    public var label: String
    public var targets: [String]
    /// The network fault it made (`f3`); nil for a process fault (kill, pause, stop).
    public var faultID: String?
    public var summary: String
    public var since: Date
    public var healAt: Date
  }

  /// No nemesis was ever started on the fixture.
  public static let none = NemesisStatusReport(
    state: "none", running: false, stepsDone: 0, steps: [], inForce: [], faults: [])

  public init(
    state: String, running: Bool, pid: Int32? = nil, seed: UInt64? = nil, startedAt: Date? = nil, endedAt: Date? = nil,
    stepsDone: Int, steps: [NemesisRecord.Done], next: Next? = nil, inForce: [Held], faults: [Fault], lastError: String? = nil
  ) {
    self.state = state
    self.running = running
    self.pid = pid
    self.seed = seed
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.stepsDone = stepsDone
    self.steps = steps
    self.next = next
    self.inForce = inForce
    self.faults = faults
    self.lastError = lastError
  }

  public init(_ s: NemesisRunner.NemesisStatus) {
    let r = s.record
    let state = s.running ? "running" : s.died ? "died" : (r.ended ?? "stopped")
    self.init(
      state: state, running: s.running, pid: r.pid, seed: r.schedule.seed, startedAt: r.startedAt, endedAt: r.endedAt,
      stepsDone: r.stepsDone, steps: r.done ?? [],
      next: s.running
        ? r.next.map { Next(at: $0.at, label: $0.label, action: $0.heal.map { $0 ? "heal" : "fault" }, targets: $0.names, summary: $0.summary) }
        : nil,
      inForce: r.active.map {
        Held(label: $0.label, targets: $0.names, faultID: $0.faultID, summary: $0.summary, since: $0.since, healAt: $0.healAt)
      },
      faults: s.faults, lastError: r.lastError)
    run = s.run
  }

  public func json() throws -> String {
    String(decoding: try JSONEncoder.cthulhuMilliseconds.encode(self), as: UTF8.self) + "\n"
  }

  public static func decode(_ data: Data) throws -> NemesisStatusReport {
    try JSONDecoder.cthulhuMilliseconds.decode(NemesisStatusReport.self, from: data)
  }
}

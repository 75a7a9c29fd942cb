import Foundation

/// `nemesis:` in the manifest: faults that come and go on a schedule while
/// the system works, as Jepsen's nemesis generators and Chaos Mesh's
/// Schedule make them. `cthulhu nemesis start` runs it in the background;
/// every random choice (which members, which side of a partition) is drawn
/// from `seed`, so the same seed gives the same sequence.
public struct NemesisSchedule: Sendable, Hashable, Codable {
  /// Seeds every random choice of the schedule (`nemesis start --seed` overrides it).
  public var seed: UInt64
  /// The faults, each on its own timeline; they may overlap one another.
  public var faults: [NemesisFault]

  public init(seed: UInt64 = 0, faults: [NemesisFault]) {
    self.seed = seed
    self.faults = faults
  }
}

/// One entry of `nemesis.faults`: what to break, on which instances, and when.
///
/// It is put in force at `after`, lifted `lasting` later, and, with `every`,
/// put in force again every `every` (`times` in all, or until the schedule
/// is stopped). `every` is longer than `lasting`, so the fault is always
/// healed before it comes again.
public struct NemesisFault: Sendable, Hashable, Codable {
  /// What the entry does. A new kind of fault is one more case here, one
  /// more key in the decoder and one more mapping to a fault request.
  public enum Action: Sendable, Hashable, Codable {
    /// A partition of the targets by a Jepsen shape, over the targets
    /// shuffled anew (from the seed) at each occurrence.
    case partition(PartitionShapeName)
    case isolate
    /// Percent of arriving packets dropped, 0…100.
    case loss(percent: Double)
    /// Percent of arriving packets delivered twice, 0…100.
    case duplicate(percent: Double)
    case rate(bitsPerSecond: Int64)
    /// `distribution`: `normal` (nil) or `uniform`, as `cthulhu delay --distribution`;
    /// `reorderPercent`: the share let through undelayed, as `--reorder`.
    case delay(milliseconds: Double, jitterMilliseconds: Double?, distribution: String?, reorderPercent: Double? = nil)
    /// A signal (canonical name, `KILL` by default); healed by `start`.
    case kill(signal: String)
    /// SIGKILL, then every write the instance made that was not made
    /// durable is lost (its mounts with `faults: true`); with `torn`, the
    /// last unsynced write of a file survives in part. Healed by `start`.
    case crash(torn: Bool)
    /// SIGSTOP; healed by `unpause`.
    case pause
    /// A clean stop; healed by `start`.
    case stop
    /// The wall clock moved by this many seconds (libfaketime; the targets'
    /// groups say `clock_skew: true`); healed by lifting it.
    case clock(skewSeconds: Double)
    /// A delay or error rule in the disk layers of the targets (their
    /// groups have a mount with `faults: true`); healed by lifting it.
    case disk(NemesisDiskRule)
    /// One instance added to a group with `membership:` (its `join`, then
    /// its create), unless the group has `max` instances already.
    case grow(group: String, max: Int)
    /// One instance removed (its `leave`, then its delete), unless the
    /// group has only `min` left.
    case shrink(group: String, min: Int)

    /// The manifest key that names it.
    public var keyword: String {
      switch self {
      case .partition: "partition"
      case .isolate: "isolate"
      case .loss: "loss"
      case .duplicate: "duplicate"
      case .rate: "rate"
      case .delay: "delay"
      case .kill: "kill"
      case .crash: "crash"
      case .pause: "pause"
      case .stop: "stop"
      case .clock: "clock"
      case .disk(let r): r.errno == nil ? "disk_delay" : "disk_error"
      case .grow: "grow"
      case .shrink: "shrink"
      }
    }

    /// A network fault (in the instances' namespaces), not a process one.
    public var isNetwork: Bool {
      switch self {
      case .partition, .isolate, .loss, .duplicate, .rate, .delay: true
      case .kill, .crash, .pause, .stop, .clock, .disk, .grow, .shrink: false
      }
    }

    /// A membership change: done once, with no heal (no `for`).
    public var isMembership: Bool {
      switch self {
      case .grow, .shrink: true
      default: false
      }
    }

    /// Fewest targets the action can act on.
    public var fewestTargets: Int {
      guard case .partition(let shape) = self else { return 1 }
      switch shape {
      case .cut: return 1
      case .halves: return 2
      default: return 3
      }
    }
  }

  /// The partition shapes of `cthulhu partition` (Orchestrator's
  /// `PartitionShape`), and `cut`: the targets against every other instance
  /// of the fixture (not only the other targets), Jepsen's `:one` when the
  /// targets are `random 1`. Like every partition it drops packets between
  /// instances only, so the host (the clients of a test) still reaches every
  /// instance, where `isolate` cuts the host too.
  public enum PartitionShapeName: String, Sendable, Hashable, Codable, CaseIterable {
    case halves, majority
    case majoritiesRing = "majorities-ring"
    case bridge
    case cut
  }

  public var action: Action
  public var targets: NemesisTargets
  /// When the first occurrence starts, from the schedule's start.
  public var after: Duration
  /// How long each occurrence lasts before it is healed (zero for a
  /// membership change, which has no heal).
  public var lasting: Duration
  /// Repeat period (nil: once).
  public var every: Duration?
  /// How many occurrences (nil with `every`: until the schedule is stopped).
  public var times: Int?
  /// Where the entry stands in the manifest.
  public var location: SourceLocation

  public init(
    action: Action, targets: NemesisTargets = .init(words: ["all"]), after: Duration = .zero, lasting: Duration,
    every: Duration? = nil, times: Int? = nil, location: SourceLocation = .unknown
  ) {
    self.action = action
    self.targets = targets
    self.after = after
    self.lasting = lasting
    self.every = every
    self.times = times
    self.location = location
  }

  /// How many occurrences the entry has; nil: unbounded.
  public var occurrences: Int? { every == nil ? 1 : times }
}

/// `disk_error: ENOSPC` or `disk_delay: 50ms` with `ops`, `path` and
/// `percent`: a rule for the targets' disk layers, checked as the layer
/// checks one (Orchestrator's `DiskFaultRule`).
public struct NemesisDiskRule: Sendable, Hashable, Codable {
  /// disk_error: the error returned; nil for a delay.
  public var errno: DiskErrno?
  /// disk_delay: how long each operation waits; nil for an error.
  public var delay: Duration?
  /// The operations it applies to; nil: every one.
  public var ops: [DiskOperation]?
  /// A regular expression searched in the path inside the mount; nil: every path.
  public var path: String?
  /// Of the operations it matches, the share it hits, 0 to 100.
  public var percent: Double

  public init(errno: DiskErrno? = nil, delay: Duration? = nil, ops: [DiskOperation]? = nil, path: String? = nil, percent: Double = 100) {
    self.errno = errno
    self.delay = delay
    self.ops = ops
    self.path = path
    self.percent = percent
  }
}

/// Which instances a nemesis entry acts on: instance names, group names,
/// globs or `all` (as every command takes them), or `random N` of those,
/// drawn anew at each occurrence; or the names a command prints when the
/// occurrence starts (`targets: { command: [...] }`: "the current primary").
public struct NemesisTargets: Sendable, Hashable, Codable, CustomStringConvertible {
  /// The pool: names, groups, globs, `all` (empty with `command`).
  public var words: [String]
  /// `random N`: this many members of the pool, drawn at each occurrence.
  public var random: Int?
  /// Chosen at run time: this program (a `./` path made absolute against the
  /// manifest's folder) prints instance names, one a line, when an occurrence starts.
  public var command: [String]?
  /// The folder the command runs in: the manifest's.
  public var directory: String?

  public init(words: [String], random: Int? = nil) {
    self.words = words
    self.random = random
  }

  /// Targets a command chooses at run time, run in `directory`.
  public init(command: [String], directory: String) {
    self.words = []
    self.command = command
    self.directory = directory
  }

  public var description: String {
    if let command { return "command " + command.joined(separator: " ") }
    let pool = words.joined(separator: ",")
    guard let random else { return pool }
    return "random \(random)" + (words == ["all"] ? "" : " of \(pool)")
  }

  /// Reads `all`, `i001,i002`, `server`, `i00*`, `random 2`, `random 1 of server`.
  public static func parse(_ text: String) -> NemesisTargets? {
    let parts = text.split(separator: " ").map(String.init)
    if parts.first == "random" {
      guard parts.count >= 2, let n = Int(parts[1]), n >= 1 else { return nil }
      if parts.count == 2 { return NemesisTargets(words: ["all"], random: n) }
      guard parts.count == 4, parts[2] == "of" else { return nil }
      let words = parts[3].split(separator: ",").map(String.init)
      return words.isEmpty ? nil : NemesisTargets(words: words, random: n)
    }
    let words = parts.flatMap { $0.split(separator: ",").map(String.init) }
    return words.isEmpty ? nil : NemesisTargets(words: words)
  }

  /// The pool's instance names in `instances` order, or the word that names none.
  public func pool(in instances: [(name: String, group: String)]) -> Result<[String], UnknownTarget> {
    var picked = Set<String>()
    for word in words {
      let hits: [String]
      if word == "all" {
        hits = instances.map(\.name)
      } else if instances.contains(where: { $0.group == word }) {
        hits = instances.filter { $0.group == word }.map(\.name)
      } else if word.contains(where: { "*?[".contains($0) }) {
        hits = instances.map(\.name).filter { fnmatch(word, $0, 0) == 0 }
      } else {
        hits = instances.map(\.name).filter { $0 == word }
      }
      guard !hits.isEmpty else { return .failure(UnknownTarget(word: word)) }
      picked.formUnion(hits)
    }
    return .success(instances.map(\.name).filter(picked.contains))
  }

  /// A target word that names no instance or group.
  public struct UnknownTarget: Error, Sendable, Hashable {
    public var word: String
  }
}

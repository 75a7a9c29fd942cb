import Foundation
import Manifest

/// One step of a nemesis schedule: an occurrence of an entry put in force,
/// or healed, at an offset from the schedule's start.
public struct NemesisStep: Sendable, Hashable, Codable {
  /// Milliseconds from the schedule's start.
  public var atMs: Int64
  /// Index of the entry in `nemesis.faults` (from 0).
  public var entry: Int
  /// Which occurrence of the entry (from 0).
  public var occurrence: Int
  /// The heal of the occurrence, else its start.
  public var heal: Bool
  /// The instances it acts on, as drawn for this occurrence; for a
  /// partition, in the (shuffled) order its shape takes them.
  public var names: [String]

  /// `2.1` for the second entry's first occurrence (both from 1), for people.
  public var label: String { "\(entry + 1).\(occurrence + 1)" }
}

/// The generator: the steps of a schedule, in time order, as a pure
/// function of the schedule, the seed and the instances. Every random choice
/// of an occurrence (its `random N` members, the order a partition shape
/// takes them in) comes from a generator seeded by (seed, entry,
/// occurrence), so a step does not depend on the steps before it, and the
/// same seed gives the same sequence.
public struct NemesisTimeline: Sequence, IteratorProtocol, Sendable {
  public let schedule: NemesisSchedule
  /// The fixture's instances, in name order, with their groups; set anew
  /// after a membership change, so later occurrences draw from the group as it is.
  public var instances: [InstanceRef]
  /// Per entry: the next occurrence, and whether its start is done (its heal is next).
  var cursor: [(occurrence: Int, started: Bool)]

  public struct InstanceRef: Sendable, Hashable, Codable {
    public var name: String
    public var group: String
    public init(name: String, group: String) {
      self.name = name
      self.group = group
    }
  }

  public init(schedule: NemesisSchedule, instances: [InstanceRef]) {
    self.schedule = schedule
    self.instances = instances
    cursor = schedule.faults.map { _ in (0, false) }
  }

  /// The timeline of a manifest's schedule over the instances a fresh apply makes.
  public init(manifest: Manifest, schedule: NemesisSchedule) {
    var refs: [InstanceRef] = []
    for g in manifest.groups {
      for _ in 0..<g.count { refs.append(InstanceRef(name: InstanceName.make(refs.count + 1), group: g.name)) }
    }
    self.init(schedule: schedule, instances: refs)
  }

  /// When entry `e`'s next step is due, or nil when it has no more.
  func due(_ e: Int) -> Int64? {
    let f = schedule.faults[e]
    let (k, started) = cursor[e]
    if !started, let n = f.occurrences, k >= n { return nil }
    let start = f.after.wholeMilliseconds + Int64(k) * (f.every?.wholeMilliseconds ?? 0)
    return started ? start + f.lasting.wholeMilliseconds : start
  }

  /// The next step in time order (heals before starts at the same moment,
  /// then by entry); nil when every entry has run all its occurrences.
  public mutating func next() -> NemesisStep? {
    var best: (at: Int64, heal: Bool, entry: Int)?
    for e in schedule.faults.indices {
      guard let at = due(e) else { continue }
      let heal = cursor[e].started
      if let b = best, (b.at, b.heal ? 0 : 1, b.entry) <= (at, heal ? 0 : 1, e) { continue }
      best = (at, heal, e)
    }
    guard let best else { return nil }
    let k = cursor[best.entry].occurrence
    let step = NemesisStep(atMs: best.at, entry: best.entry, occurrence: k, heal: best.heal, names: names(entry: best.entry, occurrence: k))
    // A membership change has no heal: its next occurrence is next.
    cursor[best.entry] = best.heal || schedule.faults[best.entry].action.isMembership ? (k + 1, false) : (k, true)
    return step
  }

  /// The instances occurrence `k` of entry `e` acts on ([] when its targets
  /// name none of the instances, as after a scale-down, and when a command
  /// chooses them: they are known only when the occurrence starts, as `chosen`).
  public func names(entry e: Int, occurrence k: Int, chosen: [String]? = nil) -> [String] {
    let f = schedule.faults[e]
    var pool: [String]
    if f.targets.command != nil {
      pool = chosen ?? []
    } else {
      guard case .success(let p) = f.targets.pool(in: instances.map { ($0.name, $0.group) }) else { return [] }
      pool = p
    }
    var g = SeededGenerator(seed: Self.seed(schedule.seed, entry: e, occurrence: k))
    if let n = f.targets.random {
      pool.shuffle(using: &g)
      pool = pool.prefix(n).sorted()
    }
    // A cut takes its targets as a set; the other shapes, in a drawn order.
    if case .partition(let shape) = f.action, shape != .cut { pool.shuffle(using: &g) }
    return pool
  }

  /// One seed per (seed, entry, occurrence), SplitMix64 steps apart.
  static func seed(_ seed: UInt64, entry: Int, occurrence: Int) -> UInt64 {
    var g = SeededGenerator(seed: seed ^ (UInt64(truncatingIfNeeded: entry) &* 0x9E37_79B9_7F4A_7C15))
    for _ in 0...(occurrence % 64) { _ = g.next() }
    return g.next() ^ UInt64(truncatingIfNeeded: occurrence)
  }
}

// MARK: - What a step does

/// What starting or healing a step means for the fixture.
public enum NemesisEffect: Sendable, Hashable {
  /// A network fault, put in force through ``FaultInjector/inject(_:root:lasting:owner:delayPath:)``.
  case fault(FaultRequest)
  /// A lifecycle verb on instances, through ``InstanceControl/lifecycle(_:root:names:signal:)``.
  case lifecycle(LifecycleVerb, [String], signal: String)
  /// SIGKILL and the loss of what was not made durable, through ``InstanceControl/crash(root:names:torn:seed:)``.
  case crash([String], torn: Bool)
  /// A group one instance larger or smaller, within `bound`, through ``ApplyEngine/changeGroup(_:group:kind:bound:)``.
  case change(group: String, GroupChange.Kind, bound: Int)
}

extension NemesisFault.Action {
  /// What starting an occurrence on `names` does, in a fixture of `all`
  /// (a cut partition splits `names` from the rest of them).
  public func start(on names: [String], among all: [String]) -> NemesisEffect {
    switch self {
    case .partition(.cut): .fault(.partition(sets: [names, all.filter { !names.contains($0) }]))
    case .partition(let shape): .fault(.shaped(PartitionShape(rawValue: shape.rawValue)!, names: names))
    case .isolate: .fault(.isolate(names))
    case .loss(let p): .fault(.loss(percent: p, names))
    case .rate(let bits): .fault(.rate(bitsPerSecond: bits, names))
    case .duplicate(let p): .fault(.duplicate(percent: p, names))
    case .delay(let ms, let jitter, let distribution, let reorder):
      .fault(.delay(milliseconds: ms, jitter: jitter, distribution: distribution == "uniform" ? .uniform : .normal, reorder: reorder, names))
    case .kill(let signal): .lifecycle(.kill, names, signal: signal)
    case .crash(let torn): .crash(names, torn: torn)
    case .pause: .lifecycle(.pause, names, signal: "STOP")
    case .stop: .lifecycle(.stop, names, signal: "TERM")
    case .clock(let seconds): .fault(.clockSkew(seconds: seconds, names))
    case .disk(let rule): .fault(.disk(DiskFaultRule(nemesis: rule), mount: nil, names))
    case .grow(let group, let max): .change(group: group, .grow, bound: max)
    case .shrink(let group, let min): .change(group: group, .shrink, bound: min)
    }
  }

  /// The lifecycle verb that heals a process fault (nil: a network fault, lifted by id).
  public var healVerb: LifecycleVerb? {
    switch self {
    case .kill, .crash, .stop: .start
    case .pause: .unpause
    default: nil
    }
  }

  /// One line for people: `partition (majority) {i001,i002} | {i003,i004,i005}`, `kill i002`.
  public func describe(_ names: [String]) -> String {
    let list = names.joined(separator: ",")
    switch self {
    case .partition(.cut): return "partition (cut) {\(list)} from the other instances"
    case .partition(let shape):
      guard let s = PartitionShape(rawValue: shape.rawValue), let r = try? s.apply(to: names) else { return "partition (\(shape.rawValue)) \(list)" }
      if let sets = r.sets { return "partition (\(shape.rawValue)) " + sets.map { "{" + $0.joined(separator: ",") + "}" }.joined(separator: " | ") }
      return "partition (\(shape.rawValue)) of \(list)"
    case .isolate: return "isolate \(list)"
    case .loss(let p): return "loss \(Fault.number(p))% \(list)"
    case .rate(let bits): return "rate \(Fault.rateText(bits)) \(list)"
    case .duplicate(let p): return "duplicate \(Fault.number(p))% \(list)"
    case .delay(let ms, let jitter, let distribution, let reorder):
      return "delay \(Fault.number(ms))ms" + (jitter.map { " ±\(Fault.number($0))ms" } ?? "") + (distribution.map { " (\($0))" } ?? "")
        + (reorder.map { " reorder \(Fault.number($0))%" } ?? "") + " \(list)"
    case .kill(let signal): return "kill" + (signal == "KILL" ? "" : " --signal \(signal)") + " \(list)"
    case .crash(let torn): return "kill --lose-unsynced" + (torn ? " --torn" : "") + " \(list)"
    case .pause: return "pause \(list)"
    case .stop: return "stop \(list)"
    case .clock(let seconds): return "clock \(ClockSkew.text(seconds)) \(list)"
    case .disk(let rule): return "disk " + Fault.ruleText(DiskFaultRule(nemesis: rule), seed: false) + " \(list)"
    case .grow(let group, let max): return "grow \(group) (max \(max))"
    case .shrink(let group, let min): return "shrink \(group) (min \(min))"
    }
  }

  /// How the heal of a step reads: `heal partition …`, `start i002`.
  public func describeHeal(_ names: [String]) -> String {
    if let verb = healVerb { return "\(verb.rawValue) \(names.joined(separator: ","))" }
    return "heal " + describe(names)
  }
}

// MARK: - For people: `cthulhu plan`

extension NemesisTimeline {
  /// The schedule in a few lines: each entry's timing, then its first steps
  /// with what the seed draws for them.
  public func summary(firstSteps: Int = 8) -> String {
    let plan = plan(firstSteps: firstSteps)
    var out = "Nemesis (seed \(plan.seed); `cthulhu nemesis start` runs it in the background):\n"
    for (i, e) in plan.faults.enumerated() {
      var when = "at \(Units.text(.milliseconds(e.afterMs)))" + (e.forMs > 0 ? " for \(Units.text(.milliseconds(e.forMs)))" : "")
      if let every = e.everyMs {
        when += ", every \(Units.text(.milliseconds(every)))" + (e.times.map { ", \($0) times" } ?? " until stopped")
      }
      out += "  \(i + 1). \(e.summary) on \(e.targets): \(when)\n"
    }
    out += "  First steps:\n"
    for s in plan.firstSteps {
      out += "    +\(Units.text(.milliseconds(s.atMs)))  \(s.label)  \(s.summary)\n"
    }
    if plan.moreSteps { out += "    …\n" }
    return out
  }
}

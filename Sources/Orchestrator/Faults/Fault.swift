import Foundation
import Manifest

/// One network fault in force on a fixture, as `cthulhu faults` lists it.
///
/// Every kind reduces to per-instance rules (see `NetRules`): a partition is
/// stored as Jepsen's *grudge*, a map from an instance to the instances whose
/// packets it drops, so that the non-transitive shapes (majorities ring,
/// bridge) need no special case.
public struct Fault: Codable, Sendable, Hashable {
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case partition, isolate, loss, rate, delay
    /// A share of the packets arriving at instances delivered twice (iptables `TEE` to the instance's own address).
    case duplicate
    /// The wall clock of instances moved by an offset (libfaketime; see ``ClockSkew``).
    case clock
    /// A delay or error rule in the disk layers of instances (see ``DiskFaultRule``).
    case disk
  }

  /// How a delay is carried out on the instance's kernel.
  public enum DelayPath: String, Codable, Sendable, CaseIterable {
    /// The kernel's netem queueing discipline.
    case netem
    /// No sch_netem: NFQUEUE and a ``PacketDelayer`` process per instance.
    case queue
  }

  /// `f1`, `f2`, … in the order they were made; never reused within a fixture.
  public var id: String
  public var kind: Kind
  /// Instances the fault acts on (for a partition: every instance in a set).
  public var targets: [String]
  /// partition: instance → instances whose packets it drops.
  public var grudge: [String: [String]]?
  /// partition: the sets as given or as the shape chose them (nil for a ring).
  public var sets: [[String]]?
  /// partition: the shape's name when one was asked for (`halves`, `bridge`, …).
  public var shape: String?
  /// loss: percent of incoming packets dropped, 0…100.
  public var lossPercent: Double?
  /// duplicate: percent of incoming packets delivered twice, 0…100.
  public var duplicatePercent: Double?
  /// rate: egress limit in bits per second.
  public var rateBits: Int64?
  /// delay: added egress latency and its jitter, in milliseconds.
  public var delayMs: Double?
  public var jitterMs: Double?
  /// delay: percent of packets let through at once, undelayed, so that
  /// they overtake the ones held (netem's `reorder`); nil is none.
  public var reorderPercent: Double?
  /// delay: how the jitter is spread; nil is normal.
  public var jitterDistribution: PacketDelayer.Distribution?
  /// delay: how the kernel carries it, probed when the fault reaches a
  /// running instance. nil until then (and in records older than the queue
  /// path): the rules are netem's, and the next start probes.
  public var delayPath: DelayPath?
  /// delay, loss or duplicate on a link (`--between A --and B`): the two disjoint sets.
  /// The fault acts only on the packets between them, both ways; nil: on
  /// everything its targets receive (or send).
  public var between: [[String]]?
  /// clock: the offset of the instances' wall clock, in seconds.
  public var skewSeconds: Double?
  /// disk: the rule each target's layers hold (its seed mixed with the
  /// layer's instance and mount, see ``DiskLayers/Layer/seed(_:)``).
  public var diskRule: DiskFaultRule?
  /// disk: the mount whose layer holds it (its name in the manifest); nil: every mount with faults of the targets.
  public var diskMount: String?
  public var createdAt: Date
  /// When `--for` was given: the moment the fault lifts itself.
  public var expiresAt: Date?
  /// The detached process that lifts the fault at `expiresAt`.
  public var reaperPID: Int32?
  /// Who made it when not a person: `nemesis` for a schedule's faults, which
  /// `cthulhu nemesis stop` lifts even if the nemesis died before it recorded them.
  public var owner: String?

  public init(id: String, kind: Kind, targets: [String], createdAt: Date = Date()) {
    self.id = id
    self.kind = kind
    self.targets = targets
    self.createdAt = createdAt
  }

  /// One line for people: `partition {i001} | {i002,i003}`, `loss 30% i001,i002`.
  public var summary: String {
    var list = targets.joined(separator: ",")
    if let between, between.count == 2 {
      list = between.map { "{" + $0.joined(separator: ",") + "}" }.joined(separator: " <-> ")
    }
    switch kind {
    case .partition:
      let body: String
      if let sets {
        body = sets.map { "{" + $0.joined(separator: ",") + "}" }.joined(separator: " | ")
      } else {
        body = (grudge ?? [:]).keys.sorted().map { "\($0) drops \(grudge![$0]!.joined(separator: ","))" }.joined(separator: "; ")
      }
      return "partition " + (shape.map { "(\($0)) " } ?? "") + body
    case .isolate: return "isolate \(list)"
    case .loss: return "loss \(Self.number(lossPercent ?? 0))% \(list)"
    case .duplicate: return "duplicate \(Self.number(duplicatePercent ?? 0))% \(list)"
    case .rate: return "rate \(Self.rateText(rateBits ?? 0)) \(list)"
    case .delay:
      return "delay \(Self.number(delayMs ?? 0))ms" + (jitterMs.map { " ±\(Self.number($0))ms" } ?? "")
        + (jitterDistribution.map { " (\($0.rawValue))" } ?? "") + (reorderPercent.map { " reorder \(Self.number($0))%" } ?? "") + " \(list)"
    case .clock: return "clock \(ClockSkew.text(skewSeconds ?? 0)) \(list)"
    case .disk:
      if let diskMount { list = targets.map { "\($0)/\(diskMount)" }.joined(separator: ",") }
      return "disk " + (diskRule.map { Self.ruleText($0) } ?? "") + " \(list)"
    }
  }

  /// `error ENOSPC write ^/wal`, `delay 50ms fsync 30% seed 7`: the rule's
  /// action, then its operations, path and share (and seed) when it has them.
  public static func ruleText(_ rule: DiskFaultRule, seed: Bool = true) -> String {
    var words: [String]
    switch rule.action {
    case .delay(let d): words = ["delay", Units.text(d)]
    case .error(let e): words = ["error", e.name]
    }
    if let ops = rule.ops { words.append(ops.map(\.rawValue).joined(separator: ",")) }
    if let path = rule.path { words.append(path) }
    if rule.percent < 100 { words += ["\(number(rule.percent))%"] + (seed ? ["seed \(rule.seed)"] : []) }
    return words.joined(separator: " ")
  }

  /// The unordered pairs of instances a link between `sets` joins.
  static func pairs(_ sets: [[String]]) -> Set<[String]> {
    guard sets.count == 2 else { return [] }
    var out: Set<[String]> = []
    for a in sets[0] { for b in sets[1] { out.insert([a, b].sorted()) } }
    return out
  }

  static func number(_ d: Double) -> String {
    d == d.rounded() ? String(Int64(d)) : String(format: "%g", d)
  }

  static func rateText(_ bits: Int64) -> String {
    for (unit, size) in [("gbit", Int64(1_000_000_000)), ("mbit", 1_000_000), ("kbit", 1_000)] where bits >= size && bits % size == 0 {
      return "\(bits / size)\(unit)"
    }
    return "\(bits)bit"
  }
}

/// Every fault in force on one fixture: `<root>/.cthulhu/faults.json`, kept
/// apart from `state.json` so that an apply in progress and a fault command
/// never overwrite each other's record.
public struct FaultBook: Codable, Sendable, Hashable {
  public var formatVersion = 1
  public var nextID = 1
  public var faults: [Fault] = []
  /// Instance → PID of its ``PacketDelayer`` process (`cthulhu _delay`).
  public var delayers: [String: Int32]?

  public init() {}

  static func path(root: String) -> String { root + "/.cthulhu/faults.json" }

  public static func load(root: String) throws -> FaultBook {
    let p = path(root: root)
    guard let data = FileManager.default.contents(atPath: p) else { return FaultBook() }
    do {
      return try JSONDecoder.cthulhu.decode(FaultBook.self, from: data)
    } catch {
      throw OrchestratorError(.corruptState, "\(p): the fault record is unreadable (\(error)); move it away and run `cthulhu heal`")
    }
  }

  func save(root: String) throws {
    try FileManager.default.createDirectory(atPath: root + "/.cthulhu", withIntermediateDirectories: true)
    try AtomicFile.write(try JSONEncoder.cthulhu.encode(self), to: Self.path(root: root))
  }

  mutating func allocateID() -> String {
    defer { nextID += 1 }
    return "f\(nextID)"
  }

  /// Adds `fault`. A rate or delay on an instance that already has one
  /// replaces the older one there (a link has one queue discipline).
  mutating func add(_ fault: Fault) {
    if let sets = fault.between {
      // A link delay replaces the older ones it covers whole (on a pair both
      // cover, the later one counts: see NetRules.compute).
      let pairs = Fault.pairs(sets)
      if fault.kind == .delay {
        faults.removeAll { f in f.kind == .delay && f.between.map { Fault.pairs($0).isSubset(of: pairs) } ?? false }
      }
      faults.append(fault)
      return
    }
    if fault.kind == .rate || fault.kind == .delay || fault.kind == .clock {
      let hit = Set(fault.targets)
      faults = faults.compactMap { f in
        guard f.kind == fault.kind, f.between == nil else { return f }
        var g = f
        g.targets.removeAll { hit.contains($0) }
        return g.targets.isEmpty ? nil : g
      }
    }
    faults.append(fault)
  }

  /// Lifts the faults on `names` (every fault when `names` is nil); returns
  /// the faults that are gone entirely.
  @discardableResult
  mutating func heal(_ names: Set<String>?) -> [Fault] {
    guard let names else {
      defer { faults = [] }
      return faults
    }
    var gone: [Fault] = []
    faults = faults.compactMap { f in
      var g = f
      g.targets.removeAll { names.contains($0) }
      if var grudge = g.grudge {
        for n in names { grudge[n] = nil }
        for k in grudge.keys { grudge[k]!.removeAll { names.contains($0) } }
        grudge = grudge.filter { !$0.value.isEmpty }
        g.grudge = grudge
        g.sets = g.sets?.map { $0.filter { !names.contains($0) } }.filter { !$0.isEmpty }
        g.targets = g.targets.filter { n in grudge[n] != nil || grudge.values.contains { $0.contains(n) } }
      }
      var linkGone = false
      if let sets = g.between {
        g.between = sets.map { $0.filter { !names.contains($0) } }
        linkGone = g.between!.contains { $0.isEmpty }
      }
      let empty = g.targets.isEmpty || linkGone || (g.kind == .partition && (g.grudge ?? [:]).isEmpty)
      if empty { gone.append(f); return nil }
      return g
    }
    return gone
  }

  /// Faults whose `--for` has run out at `now`.
  func expired(at now: Date) -> [Fault] { faults.filter { ($0.expiresAt ?? .distantFuture) <= now } }
}

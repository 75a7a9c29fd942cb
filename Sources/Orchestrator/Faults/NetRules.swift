import Foundation
import Manifest

/// What one instance's network namespace must hold for the faults in force:
/// the sum of every fault that touches it. Pure; `NetFaultEnforcer` makes it so.
///
/// - Partitions drop *incoming* packets from the other side (`INPUT -s IP -j DROP`
///   in both namespaces), as Jepsen does: traffic stops both ways, and a sender
///   sees a silent network rather than an error.
/// - Isolation drops everything but loopback, in and out.
/// - Loss drops a share of incoming packets (`-m statistic --mode random`).
/// - Rate and delay shape egress with one root qdisc on the instance's
///   interface: `tbf` for a rate alone, `netem` (with its own `rate`) when
///   there is a delay.
/// - Duplication delivers a share of incoming packets twice: in cthulhu's
///   mangle chain `CTHULHU-DUP` (jumped to from PREROUTING), `-m statistic
///   --mode random -j TEE --gateway <the instance's own address>` clones the
///   packet and sends the clone to the instance itself, so it arrives again
///   on `lo` with the sender's address (it needs no netem and works on any
///   kernel with `xt_TEE`). The clone passes `CTHULHU-IN` like the original:
///   partitions drop it (they match the source, not the interface), the
///   queued delay holds it, and an isolated instance makes none.
/// - On a kernel without netem (the delay fault's `delayPath` is `queue`),
///   the delay is an `NFQUEUE --queue-bypass` rule at the end of `CTHULHU-IN`
///   that hands the packets arriving at the instance to its
///   ``PacketDelayer`` (arriving, not leaving: see there why); a rate is
///   then `tbf` alone.
public struct NetRules: Sendable, Hashable {
  public var dropFrom: Set<IPv4Address> = []
  public var isolated = false
  /// Percentages, one rule each (independent drops compose).
  public var loss: [Double] = []
  public var rateBits: Int64?
  public var delayMs: Double?
  public var jitterMs: Double?
  public var jitterDistribution: PacketDelayer.Distribution = .normal
  /// The delay is held in user space (``PacketDelayer``) rather than by netem.
  public var delayQueued = false
  /// The seed of the queued delay's jitter (from the fault and the instance).
  public var delaySeed: UInt64?
  /// Link delays (`delay --between`): the peer's address → the delay on
  /// the packets between it and this instance.
  public var links: [IPv4Address: LinkDelay] = [:]
  /// Link losses (`loss --between`): the peer's address → percentages of
  /// the packets arriving from it that are dropped.
  public var linkLoss: [IPv4Address: [Double]] = [:]
  /// Percentages of incoming packets delivered twice (one `TEE` rule each).
  public var duplicate: [Double] = []
  /// Link duplication (`duplicate --between`): the peer's address → percentages.
  public var linkDuplicate: [IPv4Address: [Double]] = [:]
  /// The instance's own address: where the duplicates are sent.
  public var address: IPv4Address?
  /// Percent of packets the delay lets through at once (netem `reorder`).
  public var reorderPercent: Double?

  /// One link's delay as seen from one end.
  public struct LinkDelay: Sendable, Hashable {
    public var delayMs: Double
    public var jitterMs: Double
    public var distribution: PacketDelayer.Distribution
    /// Held by the ``PacketDelayer`` (no netem), on arrival from the peer;
    /// else netem on what is sent to the peer.
    public var queued: Bool
    /// From the fault and this end: the peers of one link fault share a queue.
    public var seed: UInt64
    /// Percent of the link's packets let through undelayed.
    public var reorderPercent: Double? = nil

    var spec: PacketDelayer.Spec {
      PacketDelayer.Spec(delayMs: delayMs, jitterMs: jitterMs, distribution: distribution, seed: seed, reorderPercent: reorderPercent)
    }
  }

  public init() {}

  /// A ``PacketDelayer`` must run in the instance's namespace.
  public var needsDelayer: Bool { (delayQueued && delayMs != nil) || links.values.contains { $0.queued } }
  /// What a delayer does for these rules, when one is needed.
  public var delayerSpec: PacketDelayer.Spec? {
    guard delayQueued, let d = delayMs else { return nil }
    return PacketDelayer.Spec(
      delayMs: d, jitterMs: jitterMs ?? 0, distribution: jitterDistribution, seed: delaySeed ?? 1, reorderPercent: reorderPercent)
  }

  /// Some packets are to be delivered twice (and the instance is not isolated, which would drop the copies' originals).
  public var hasDuplicate: Bool {
    !isolated && address != nil && (duplicate.contains { $0 > 0 } || linkDuplicate.values.contains { $0.contains { $0 > 0 } })
  }

  public var hasFilter: Bool {
    !dropFrom.isEmpty || isolated || loss.contains { $0 > 0 } || needsDelayer || linkLoss.values.contains { $0.contains { $0 > 0 } }
  }

  /// The queue numbers, delays and peers of the queued link delays: one
  /// queue per link fault (the same delay and seed), after the instance's
  /// own queue. A packet on a link queue waits the link's delay plus the
  /// instance's own queued delay (a ``PacketDelayer`` lets it go past
  /// the instance-wide rule).
  public var linkQueues: [(number: UInt16, specs: [PacketDelayer.Spec], peers: [IPv4Address])] {
    let own = delayQueued ? delayerSpec : nil
    let grouped = Dictionary(grouping: links.filter { $0.value.queued }, by: \.value)
    let groups = grouped.map { (link: $0.key, peers: $0.value.map(\.key).sorted { $0.value < $1.value }) }
      .sorted { $0.peers[0].value < $1.peers[0].value }
    return groups.enumerated().map { k, g in
      (PacketDelayer.queueNumber + 1 + UInt16(k), (own.map { [$0] } ?? []) + [g.link.spec], g.peers)
    }
  }

  /// Everything the instance's delayer does: the queues it binds and the
  /// delays it draws on each. nil when it needs none.
  public var delayerPlan: PacketDelayer.Plan? {
    guard needsDelayer else { return nil }
    var queues: [PacketDelayer.Plan.Queue] = []
    if let own = delayerSpec { queues.append(.init(number: PacketDelayer.queueNumber, specs: [own])) }
    for q in linkQueues { queues.append(.init(number: q.number, specs: q.specs)) }
    return PacketDelayer.Plan(queues: queues)
  }
  public var isEmpty: Bool { !hasFilter && !hasQdisc && !hasDuplicate }

  /// The rules for every instance named in `ips`, from the faults in `book`.
  public static func compute(book: FaultBook, ips: [String: IPv4Address]) -> [String: NetRules] {
    var rules = Dictionary(uniqueKeysWithValues: ips.keys.map { ($0, NetRules()) })
    for f in book.faults {
      switch f.kind {
      case .partition:
        for (who, drops) in f.grudge ?? [:] where rules[who] != nil {
          rules[who]!.dropFrom.formUnion(drops.compactMap { ips[$0] })
        }
      case .isolate:
        for t in f.targets where rules[t] != nil { rules[t]!.isolated = true }
      case .loss where f.between != nil:
        for (mine, theirs) in Self.sides(f.between!) {
          for t in mine where rules[t] != nil {
            for p in theirs { if let ip = ips[p] { rules[t]!.linkLoss[ip, default: []].append(f.lossPercent ?? 0) } }
          }
        }
      case .delay where f.between != nil:
        for (mine, theirs) in Self.sides(f.between!) {
          for t in mine where rules[t] != nil {
            let link = LinkDelay(
              delayMs: f.delayMs ?? 0, jitterMs: f.jitterMs ?? 0, distribution: f.jitterDistribution ?? .normal,
              queued: f.delayPath == .queue, seed: PacketDelayerProcess.seed(fault: f.id, instance: t), reorderPercent: f.reorderPercent)
            // On a pair two link delays cover, the later one counts.
            for p in theirs { if let ip = ips[p] { rules[t]!.links[ip] = link } }
          }
        }
      case .duplicate where f.between != nil:
        for (mine, theirs) in Self.sides(f.between!) {
          for t in mine where rules[t] != nil {
            rules[t]!.address = ips[t]
            for p in theirs { if let ip = ips[p] { rules[t]!.linkDuplicate[ip, default: []].append(f.duplicatePercent ?? 0) } }
          }
        }
      case .duplicate:
        for t in f.targets where rules[t] != nil {
          rules[t]!.address = ips[t]
          rules[t]!.duplicate.append(f.duplicatePercent ?? 0)
        }
      case .clock, .disk:
        break  // the wall clock or the disk, not the network: see ClockSkew, FaultInjector+Disk
      case .loss:
        for t in f.targets where rules[t] != nil { rules[t]!.loss.append(f.lossPercent ?? 0) }
      case .rate:
        for t in f.targets where rules[t] != nil { rules[t]!.rateBits = min(rules[t]!.rateBits ?? .max, f.rateBits ?? .max) }
      case .delay:
        for t in f.targets where rules[t] != nil {
          rules[t]!.delayMs = f.delayMs
          rules[t]!.jitterMs = f.jitterMs
          rules[t]!.jitterDistribution = f.jitterDistribution ?? .normal
          rules[t]!.reorderPercent = f.reorderPercent
          rules[t]!.delayQueued = f.delayPath == .queue
          rules[t]!.delaySeed = f.delayPath == .queue ? PacketDelayerProcess.seed(fault: f.id, instance: t) : nil
        }
      }
    }
    return rules
  }

  /// Each side of a link with the other: both ends hold the rules.
  static func sides(_ sets: [[String]]) -> [([String], [String])] {
    sets.count == 2 ? [(sets[0], sets[1]), (sets[1], sets[0])] : []
  }

  static let inChain = "CTHULHU-IN"
  static let outChain = "CTHULHU-OUT"
  /// In the mangle table, jumped to from PREROUTING: the duplicating `TEE` rules.
  static let dupChain = "CTHULHU-DUP"

  /// A jump from a builtin chain to one of cthulhu's (`count` of them in a listing).
  public struct Jump: Sendable, Hashable {
    public var builtin: String
    public var chain: String
    public var count = 1
  }

  /// cthulhu's chains by table, each with the builtin chain that jumps to it.
  static let tables: [(name: String, jumps: [Jump])] = [
    ("filter", [Jump(builtin: "INPUT", chain: inChain), Jump(builtin: "OUTPUT", chain: outChain)]),
    ("mangle", [Jump(builtin: "PREROUTING", chain: dupChain)]),
  ]
  /// The handle of cthulhu's root qdisc, so that heal removes only its own.
  static let qdiscHandle = "c7c7:"

  /// `iptables-restore --noflush` input that replaces cthulhu's two chains
  /// (declaring a chain flushes it) and leaves every other rule alone;
  /// `jumping` (builtin, chain) adds the jumps not there yet, first in their builtin.
  public func iptablesRestore(jumping: [Jump] = []) -> String {
    var lines = ["*filter", ":\(Self.inChain) - [0:0]", ":\(Self.outChain) - [0:0]"]
    if isolated {
      lines.append("-A \(Self.inChain) ! -i lo -j DROP")
      lines.append("-A \(Self.outChain) ! -o lo -j DROP")
    }
    for ip in dropFrom.sorted(by: { $0.value < $1.value }) {
      lines.append("-A \(Self.inChain) -s \(ip)/32 -j DROP")
    }
    for p in loss where p > 0 {
      if p >= 100 {
        lines.append("-A \(Self.inChain) ! -i lo -j DROP")
      } else {
        lines.append("-A \(Self.inChain) ! -i lo -m statistic --mode random --probability \(String(format: "%.4f", p / 100)) -j DROP")
      }
    }
    for (ip, percents) in linkLoss.sorted(by: { $0.key.value < $1.key.value }) {
      for p in percents where p > 0 {
        lines.append(
          "-A \(Self.inChain) -s \(ip)/32" + (p >= 100 ? "" : " -m statistic --mode random --probability \(String(format: "%.4f", p / 100))")
            + " -j DROP")
      }
    }
    for q in linkQueues {
      // Before the instance-wide queue: the delayer's accept ends the chain, so a packet is held once.
      for ip in q.peers {
        lines.append("-A \(Self.inChain) -s \(ip)/32 -j NFQUEUE --queue-num \(q.number) --queue-bypass")
      }
    }
    if delayQueued && delayMs != nil {
      // Last: what cthulhu drops is never held, and the delayer's accept ends the chain.
      // Bypass: with no delayer bound to the queue (killed, not started yet) packets pass undelayed.
      lines.append("-A \(Self.inChain) ! -i lo -j NFQUEUE --queue-num \(PacketDelayer.queueNumber) --queue-bypass")
      if hasDuplicate {
        // The duplicates arrive on lo from a peer's (not a local) address: they wait as the originals do.
        lines.append(
          "-A \(Self.inChain) -i lo -m addrtype ! --src-type LOCAL -j NFQUEUE --queue-num \(PacketDelayer.queueNumber) --queue-bypass")
      }
    }
    for j in jumping { lines.append("-I \(j.builtin) 1 -j \(j.chain)") }
    lines.append("COMMIT")
    return lines.joined(separator: "\n") + "\n"
  }

  /// `iptables-restore --noflush` input for the mangle table: cthulhu's
  /// duplicating chain, or nil when nothing is duplicated. `! -i lo` keeps
  /// the copies (which arrive on lo) from being copied again.
  public func mangleRestore(jumping: [Jump] = []) -> String? {
    guard hasDuplicate, let own = address else { return nil }
    var lines = ["*mangle", ":\(Self.dupChain) - [0:0]"]
    func tee(_ match: String, _ p: Double) -> String {
      "-A \(Self.dupChain) ! -i lo\(match)" + (p >= 100 ? "" : " -m statistic --mode random --probability \(String(format: "%.4f", p / 100))")
        + " -j TEE --gateway \(own)"
    }
    for p in duplicate where p > 0 { lines.append(tee("", p)) }
    for (ip, percents) in linkDuplicate.sorted(by: { $0.key.value < $1.key.value }) {
      for p in percents where p > 0 { lines.append(tee(" -s \(ip)/32", p)) }
    }
    for j in jumping { lines.append("-I \(j.builtin) 1 -j \(j.chain)") }
    lines.append("COMMIT")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Whether the instance needs a root qdisc of cthulhu's (a delay on netem, a rate, or a link tree;
  /// a queued delay is a filter rule).
  public var hasQdisc: Bool { qdiscArguments() != nil || links.contains { !$0.value.queued } }

  /// `tc qdisc replace dev DEV root …` arguments after `dev DEV`, or nil when
  /// the instance needs no shaping.
  public func qdiscArguments() -> [String]? {
    if let delay = delayMs, !delayQueued {
      var args = ["root", "handle", Self.qdiscHandle, "netem", "delay", Self.ms(delay)]
      if let j = jitterMs, j > 0 {
        // netem's jitter is uniform unless a distribution table is named.
        args += [Self.ms(j)] + (jitterDistribution == .normal ? ["distribution", "normal"] : [])
      }
      if let r = reorderPercent, r > 0 { args += ["reorder", Self.percent(r)] }
      if let r = rateBits { args += ["rate", "\(r)bit"] }
      return args
    }
    if let r = rateBits {
      // Burst: at least one full frame plus headroom, and 10 ms worth at the rate.
      let burst = max(r / 8 / 100, 4096)
      return ["root", "handle", Self.qdiscHandle, "tbf", "rate", "\(r)bit", "burst", "\(burst)", "latency", "200ms"]
    }
    return nil
  }

  /// With link delays on netem: the `tc` commands (each after `tc`) that
  /// build cthulhu's root qdisc on `device` as a tree, after any old one is
  /// deleted. nil when no link takes the netem path (``qdiscArguments()``
  /// then says all).
  ///
  /// An `htb` root (`c7c7:`) with one parent class at the instance's rate (or
  /// 10gbit), a default leaf `c7c7:10` (the instance's own netem delay, if
  /// any) and a leaf per link delay `c7c7:11`… whose netem delay is the
  /// link's plus the instance's (jitters add as standard deviations);
  /// `u32` filters send what is addressed to each peer to its link's leaf.
  public func linkQdiscCommands(device: String) -> [[String]]? {
    let netemLinks = links.filter { !$0.value.queued }
    guard !netemLinks.isEmpty else { return nil }
    let bits = rateBits ?? 10_000_000_000
    // Burst as for tbf (10 ms at the rate, at least 4 KiB); a fixed quantum spares htb's warning at high rates.
    let shape = ["htb", "rate", "\(bits)bit", "ceil", "\(bits)bit", "burst", "\(max(bits / 8 / 100, 4096))", "quantum", "60000"]
    let root = Self.qdiscHandle
    var cmds: [[String]] = [
      ["qdisc", "add", "dev", device, "root", "handle", root, "htb", "default", "10"],
      ["class", "add", "dev", device, "parent", root, "classid", root + "1"] + shape,
      ["class", "add", "dev", device, "parent", root + "1", "classid", root + "10"] + shape,
    ]
    let own = delayQueued ? nil : delayMs
    let ownJitter = delayQueued ? 0 : (jitterMs ?? 0)
    if let own {
      cmds.append(
        ["qdisc", "add", "dev", device, "parent", root + "10", "handle", "c810:"] + Self.netem(own, ownJitter, jitterDistribution, reorderPercent))
    }
    let grouped = Dictionary(grouping: netemLinks, by: \.value)
    let groups = grouped.map { (link: $0.key, peers: $0.value.map(\.key).sorted { $0.value < $1.value }) }
      .sorted { $0.peers[0].value < $1.peers[0].value }
    for (k, g) in groups.enumerated() {
      let minor = String(0x11 + k, radix: 16)
      let jitter = (ownJitter * ownJitter + g.link.jitterMs * g.link.jitterMs).squareRoot()
      let spread = g.link.jitterMs > 0 ? g.link.distribution : jitterDistribution
      cmds.append(["class", "add", "dev", device, "parent", root + "1", "classid", root + minor] + shape)
      cmds.append(
        ["qdisc", "add", "dev", device, "parent", root + minor, "handle", String(0xc811 + k, radix: 16) + ":"]
          + Self.netem((own ?? 0) + g.link.delayMs, jitter, spread, g.link.reorderPercent ?? (own != nil ? reorderPercent : nil)))
      for ip in g.peers {
        cmds.append([
          "filter", "add", "dev", device, "parent", root, "protocol", "ip", "prio", "1", "u32", "match", "ip", "dst", "\(ip)/32", "flowid",
          root + minor,
        ])
      }
    }
    return cmds
  }

  /// `netem delay D [J [distribution normal]] [reorder P%]`.
  static func netem(_ delay: Double, _ jitter: Double, _ spread: PacketDelayer.Distribution, _ reorder: Double? = nil) -> [String] {
    ["netem", "delay", ms(delay)] + (jitter > 0 ? [ms(jitter)] + (spread == .normal ? ["distribution", "normal"] : []) : [])
      + (reorder.map { $0 > 0 ? ["reorder", percent($0)] : [] } ?? [])
  }

  static func percent(_ v: Double) -> String { Fault.number(v) + "%" }

  static func ms(_ v: Double) -> String { String(format: "%.3fms", v) }
}

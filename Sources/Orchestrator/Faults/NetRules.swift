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

  public init() {}

  /// A ``PacketDelayer`` must run in the instance's namespace.
  public var needsDelayer: Bool { delayQueued && delayMs != nil }
  /// What a delayer does for these rules, when one is needed.
  public var delayerSpec: PacketDelayer.Spec? {
    guard needsDelayer, let d = delayMs else { return nil }
    return PacketDelayer.Spec(delayMs: d, jitterMs: jitterMs ?? 0, distribution: jitterDistribution, seed: delaySeed ?? 1)
  }

  public var hasFilter: Bool { !dropFrom.isEmpty || isolated || loss.contains { $0 > 0 } || needsDelayer }
  public var hasQdisc: Bool { rateBits != nil || delayMs != nil }
  public var isEmpty: Bool { !hasFilter && !hasQdisc }

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
      case .loss:
        for t in f.targets where rules[t] != nil { rules[t]!.loss.append(f.lossPercent ?? 0) }
      case .rate:
        for t in f.targets where rules[t] != nil { rules[t]!.rateBits = min(rules[t]!.rateBits ?? .max, f.rateBits ?? .max) }
      case .delay:
        for t in f.targets where rules[t] != nil {
          rules[t]!.delayMs = f.delayMs
          rules[t]!.jitterMs = f.jitterMs
          rules[t]!.jitterDistribution = f.jitterDistribution ?? .normal
          rules[t]!.delayQueued = f.delayPath == .queue
          rules[t]!.delaySeed = f.delayPath == .queue ? PacketDelayerProcess.seed(fault: f.id, instance: t) : nil
        }
      }
    }
    return rules
  }

  static let inChain = "CTHULHU-IN"
  static let outChain = "CTHULHU-OUT"
  /// The handle of cthulhu's root qdisc, so that heal removes only its own.
  static let qdiscHandle = "c7c7:"

  /// `iptables-restore --noflush` input that replaces cthulhu's two chains
  /// (declaring a chain flushes it) and leaves every other rule alone.
  public func iptablesRestore() -> String {
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
    if needsDelayer {
      // Last: what cthulhu drops is never held, and the delayer's accept ends the chain.
      // Bypass: with no delayer bound to the queue (killed, not started yet) packets pass undelayed.
      lines.append("-A \(Self.inChain) ! -i lo -j NFQUEUE --queue-num \(PacketDelayer.queueNumber) --queue-bypass")
    }
    lines.append("COMMIT")
    return lines.joined(separator: "\n") + "\n"
  }

  /// `tc qdisc replace dev DEV root …` arguments after `dev DEV`, or nil when
  /// the instance needs no shaping.
  public func qdiscArguments() -> [String]? {
    if let delay = delayMs, !delayQueued {
      var args = ["root", "handle", Self.qdiscHandle, "netem", "delay", Self.ms(delay)]
      if let j = jitterMs, j > 0 {
        // netem's jitter is uniform unless a distribution table is named.
        args += [Self.ms(j)] + (jitterDistribution == .normal ? ["distribution", "normal"] : [])
      }
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

  static func ms(_ v: Double) -> String { String(format: "%.3fms", v) }
}

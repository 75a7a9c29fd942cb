import Foundation
import Manifest

/// What to break: the library form of `cthulhu partition|isolate|loss|duplicate|rate|delay|clock skew|disk delay|disk error`.
public enum FaultRequest: Sendable, Hashable {
  /// Disjoint sets of instance names; traffic between sets is dropped both ways.
  case partition(sets: [[String]])
  /// A Jepsen shape over `names` (already shuffled when random was asked for).
  case shaped(PartitionShape, names: [String])
  case isolate([String])
  case loss(percent: Double, [String])
  case rate(bitsPerSecond: Int64, [String])
  /// `distribution` spreads the jitter: normal (jitter is one standard deviation) or uniform.
  /// `reorder`: percent of packets let through undelayed, so that they overtake the held ones.
  case delay(milliseconds: Double, jitter: Double?, distribution: PacketDelayer.Distribution = .normal, reorder: Double? = nil, [String])
  /// Delivers a share of the packets arriving at instances twice.
  case duplicate(percent: Double, [String])
  /// Duplication on the link between two disjoint sets, both ways.
  case linkDuplicate(percent: Double, between: [String], and: [String])
  /// A delay on the link between two disjoint sets, both ways (`delay D --between A --and B`).
  case linkDelay(
    milliseconds: Double, jitter: Double?, distribution: PacketDelayer.Distribution = .normal, reorder: Double? = nil, between: [String],
    and: [String])
  /// Loss on the link between two disjoint sets, both ways (`loss P --between A --and B`).
  case linkLoss(percent: Double, between: [String], and: [String])
  /// Moves the wall clock of instances by `seconds` (libfaketime; their group says `clock_skew: true`).
  case clockSkew(seconds: Double, [String])
  /// A delay or error rule in the disk layers of instances, on one mount
  /// (its name in the manifest) or, when nil, on each of their mounts with faults.
  case disk(DiskFaultRule, mount: String?, [String])

  var kind: Fault.Kind {
    switch self {
    case .partition, .shaped: .partition
    case .isolate: .isolate
    case .loss: .loss
    case .rate: .rate
    case .delay, .linkDelay: .delay
    case .linkLoss: .loss
    case .duplicate, .linkDuplicate: .duplicate
    case .clockSkew: .clock
    case .disk: .disk
    }
  }

  var names: [String] {
    switch self {
    case .partition(let sets): sets.flatMap { $0 }
    case .shaped(_, let n), .isolate(let n), .loss(_, let n), .rate(_, let n), .delay(_, _, _, _, let n), .duplicate(_, let n): n
    case .linkDelay(_, _, _, _, let a, let b), .linkLoss(_, let a, let b), .linkDuplicate(_, let a, let b): a + b
    case .clockSkew(_, let n), .disk(_, _, let n): n
    }
  }
}

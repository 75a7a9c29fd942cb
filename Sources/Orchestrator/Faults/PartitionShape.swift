import Foundation

/// The partition shapes of Jepsen's nemeses, over instance names.
///
/// Every shape works on the instances in name order, or shuffled first when
/// `random` is set (`--random`, repeatable with `--seed`). The result is a
/// grudge (instance → instances whose packets it drops) and, when the shape
/// is a split into disjoint sets, the sets for display.
public enum PartitionShape: String, Sendable, CaseIterable {
  /// The first ⌊n/2⌋ instances against the rest.
  case halves
  /// A minority of ⌊(n−1)/2⌋ against a strict majority, also for even n.
  case majority
  /// Every instance sees a majority, no two the same majority: instance k keeps
  /// the window of ⌊n/2⌋+1 instances around it on a ring and drops the rest.
  case majoritiesRing = "majorities-ring"
  /// Two halves that cannot talk, and one instance in the middle that talks to both.
  case bridge

  public struct Result: Sendable, Hashable {
    public var grudge: [String: [String]]
    public var sets: [[String]]?
  }

  /// Applies the shape to `names` (at least 2; 3 for majority, ring and bridge).
  public func apply(to names: [String]) throws -> Result {
    let n = names.count
    let least = self == .halves ? 2 : 3
    guard n >= least else {
      throw OrchestratorError(.unsupported, "a \(rawValue) partition needs at least \(least) instances (got \(n): \(names.joined(separator: ", ")))")
    }
    switch self {
    case .halves:
      let cut = n / 2
      return try Self.split([Array(names[..<cut]), Array(names[cut...])])
    case .majority:
      let cut = (n - 1) / 2
      return try Self.split([Array(names[..<cut]), Array(names[cut...])])
    case .bridge:
      let mid = n / 2
      let left = Array(names[..<mid])
      let right = Array(names[(mid + 1)...])
      var grudge: [String: [String]] = [:]
      for a in left { grudge[a] = right }
      for b in right { grudge[b] = left }
      return Result(grudge: grudge.filter { !$0.value.isEmpty }, sets: nil)
    case .majoritiesRing:
      let m = n / 2 + 1
      var grudge: [String: [String]] = [:]
      for k in 0..<n {
        // The window of m instances centred on k (k at position ⌊m/2⌋ in it).
        let start = k - m / 2
        let window = Set((0..<m).map { names[((start + $0) % n + n) % n] })
        grudge[names[k]] = names.filter { !window.contains($0) }
      }
      return Result(grudge: grudge.filter { !$0.value.isEmpty }, sets: nil)
    }
  }

  /// Disjoint sets that cannot reach each other: each instance drops every
  /// instance outside its own set. Overlapping or fewer than two sets is an error.
  public static func split(_ sets: [[String]]) throws -> Result {
    let sets = sets.filter { !$0.isEmpty }
    guard sets.count >= 2 else {
      throw OrchestratorError(.unsupported, "a partition needs at least two non-empty sets of instances, e.g. `partition i001 i002,i003`")
    }
    var seen: [String: Int] = [:]
    for (k, set) in sets.enumerated() {
      for name in set {
        if let other = seen[name], other != k {
          throw OrchestratorError(.unsupported, "\(name) is in two partition sets (\(other + 1) and \(k + 1)); the sets must be disjoint")
        }
        seen[name] = k
      }
    }
    var grudge: [String: [String]] = [:]
    for (k, set) in sets.enumerated() {
      let others = sets.enumerated().filter { $0.offset != k }.flatMap(\.element)
      for name in set { grudge[name] = others }
    }
    return Result(grudge: grudge, sets: sets.map { Array(Set($0)).sorted() })
  }
}

/// A small seeded generator (SplitMix64), so that `--seed N` repeats a random shape.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

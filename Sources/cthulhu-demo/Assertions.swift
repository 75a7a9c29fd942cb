import Foundation
import Glibc

/// What the demo states about itself for a correctness run: JSON lines
/// appended to the file `CTHULHU_ASSERTIONS` names (cthulhu gives every
/// instance one; without it nothing is written), the format of History's
/// `PropertyLedger`. Each line is one `write` of an `O_APPEND` file, so
/// lines of several writers never interleave.
struct Assertions: Sendable {
  enum Kind: String, Encodable { case always, sometimes, reachable, unreachable }

  /// A detail's value: a number or a name.
  enum Detail: Encodable, Sendable {
    case int(Int)
    case text(String)
    func encode(to encoder: any Encoder) throws {
      var c = encoder.singleValueContainer()
      switch self {
      case .int(let i): try c.encode(i)
      case .text(let s): try c.encode(s)
      }
    }
  }

  struct Line: Encodable {
    var assert: Kind
    var id: String
    var condition: Bool?
    var hit: Bool?
    var details: [String: Detail]?
  }

  static let elected = "a leader was elected"
  static let caughtUp = "a follower caught up"
  static let oneLeader = "at most one leader per term"

  let path: String?

  init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    path = environment["CTHULHU_ASSERTIONS"].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// Declares the demo's properties at start, unpassed: a `sometimes` never
  /// reached in the run is then known to have failed.
  func declare() {
    write(Line(assert: .sometimes, id: Self.elected, hit: false))
    write(Line(assert: .sometimes, id: Self.caughtUp, hit: false))
    write(Line(assert: .always, id: Self.oneLeader, hit: false))
  }

  func state(_ kind: Kind, _ id: String, _ condition: Bool, _ details: [String: Detail]) {
    write(Line(assert: kind, id: id, condition: condition, details: details))
  }

  private func write(_ line: Line) {
    guard let path, var data = try? JSONEncoder().encode(line) else { return }
    data.append(0x0A)
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    _ = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
  }
}

/// The facts behind the demo's properties, as one node sees them.
struct PropertyWatch {
  /// The leader this node knew of in each recent term (its own when it led).
  private var leaders: [Int: String] = [:]
  /// This node is behind: an append was refused for a gap in its log, or
  /// none reached it for longer than ``quiet`` (cut off, paused, killed and
  /// started again), or it has just started.
  private var behind = true
  private var lastAccepted: ContinuousClock.Instant?
  /// A follower that heard no accepted append for this long has missed some:
  /// the election timeout's upper bound.
  let quiet: Duration

  init(quiet: Duration) { self.quiet = quiet }

  /// `leader` leads `term`, as this node learns it: whether that agrees
  /// with what it knew (nil: nothing new to state).
  mutating func leads(_ leader: String, term: Int) -> Bool? {
    if let known = leaders[term] { return known == leader ? nil : false }
    leaders[term] = leader
    if leaders.count > 64, let oldest = leaders.keys.min() { leaders[oldest] = nil }
    return true
  }

  /// An append answered: true when it ends a lag (this node was behind, the
  /// append brought entries, and its log now holds everything the leader
  /// had committed).
  mutating func answered(
    success: Bool, sameTerm: Bool, entries: Int, commitIndex: Int, leaderCommit: Int, now: ContinuousClock.Instant
  ) -> Bool {
    if !success, sameTerm { behind = true }
    guard success else { return false }
    if let last = lastAccepted, now - last > quiet { behind = true }
    lastAccepted = now
    guard behind, entries > 0, leaderCommit > 0, commitIndex >= leaderCommit else { return false }
    behind = false
    return true
  }
}

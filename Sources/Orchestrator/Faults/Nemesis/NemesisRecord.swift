import Foundation
import Manifest

/// The running nemesis of a fixture: `<root>/.cthulhu/nemesis.json`, kept
/// beside `faults.json` (not in `state.json`, which an apply may be
/// rewriting). `cthulhu nemesis start` writes it; from then on only the
/// detached `cthulhu _nemesis` process writes it (after each step), and
/// `cthulhu nemesis stop` once that process is gone. `status` reads it.
public struct NemesisRecord: Codable, Sendable, Hashable {
  public var formatVersion = 1
  /// The `cthulhu _nemesis` process while it runs; nil once it ended or was stopped.
  public var pid: Int32?
  /// Step times are offsets from this moment (the process's start).
  public var startedAt: Date
  /// The schedule as it was at `nemesis start` (with its seed).
  public var schedule: NemesisSchedule
  /// The fixture's instances when it started.
  public var instances: [NemesisTimeline.InstanceRef]
  public var stepsDone = 0
  /// Occurrences in force: what the next heal, or `nemesis stop`, undoes.
  public var active: [Active] = []
  /// The step the process waits for.
  public var next: Upcoming?
  public var endedAt: Date?
  /// `finished` (every step ran) or `stopped`.
  public var ended: String?
  /// The last step that failed, and why.
  public var lastError: String?
  /// The steps done, oldest first: the last ``doneKept`` of them (nil in a
  /// record written before cthulhu kept them).
  public var done: [Done]?

  /// How many done steps the record keeps (`stepsDone` counts them all).
  public static let doneKept = 1000

  /// A step done: an occurrence put in force, or healed, and how it went.
  public struct Done: Codable, Sendable, Hashable {
    /// When it was carried out.
    public var time: Date
    /// `2.1`: the second entry's first occurrence (both from 1).
    public var label: String
    /// `fault` or `heal`.
    public var action: String
    /// The fault's kind, as the manifest names it (`partition`, `kill`, …).
    public var kind: String
    public var targets: [String]
    /// The network fault it made or lifted (`f3`); nil for a process fault.
    public var faultID: String?
    /// `ok`, `failed`, or `skipped` (the heal of an occurrence that never came into force).
    public var outcome: String
    public var summary: String
    /// Why it failed.
    public var error: String?
  }

  mutating func recordDone(_ d: Done) {
    var all = (done ?? []) + [d]
    if all.count > Self.doneKept { all.removeFirst(all.count - Self.doneKept) }
    done = all
  }

  public struct Active: Codable, Sendable, Hashable {
    public var entry: Int
    public var occurrence: Int
    public var names: [String]
    /// The network fault it made (nil for a process fault, or before it is made).
    public var faultID: String?
    public var summary: String
    public var since: Date
    public var healAt: Date
    public var label: String { "\(entry + 1).\(occurrence + 1)" }
  }

  public struct Upcoming: Codable, Sendable, Hashable {
    public var at: Date
    public var label: String
    public var summary: String
    /// A heal, else a fault put in force (nil in a record written before cthulhu recorded it).
    public var heal: Bool?
    /// The instances it acts on.
    public var names: [String]?
  }

  public init(startedAt: Date, schedule: NemesisSchedule, instances: [NemesisTimeline.InstanceRef]) {
    self.startedAt = startedAt
    self.schedule = schedule
    self.instances = instances
  }

  static func path(root: String) -> String { root + "/.cthulhu/nemesis.json" }

  /// The record, or nil when no nemesis was ever started on the fixture.
  public static func load(root: String) throws -> NemesisRecord? {
    let p = path(root: root)
    guard let data = FileManager.default.contents(atPath: p) else { return nil }
    do {
      return try JSONDecoder.cthulhuMilliseconds.decode(NemesisRecord.self, from: data)
    } catch {
      throw OrchestratorError(.corruptState, "\(p): the nemesis record is unreadable (\(error)); move it away and run `cthulhu heal`")
    }
  }

  func save(root: String) throws {
    try AtomicFile.write(try JSONEncoder.cthulhuMilliseconds.encode(self), to: Self.path(root: root))
  }

  /// The tag on the network faults a nemesis makes (``Fault/owner``).
  public static let owner = "nemesis"
}

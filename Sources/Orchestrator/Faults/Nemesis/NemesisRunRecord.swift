import Foundation

/// A nemesis driven in process by a `cthulhu test` run:
/// `<root>/.cthulhu/nemesis-run.json`, beside `nemesis.json`. The run writes
/// it when it prepares its nemesis and removes it when it ends (healed);
/// `nemesis start` is refused while it is live, and `nemesis status` and
/// `stop` name the run. One left by a run that died (its process gone, or
/// a zombie not yet reaped, or its PID now another process's) is stale:
/// ignored, and replaced by the next run.
public struct NemesisRunRecord: Codable, Sendable, Hashable, CustomStringConvertible {
  public var formatVersion = 1
  /// The `cthulhu test` process.
  public var pid: Int32
  /// Its start time (`/proc/<pid>/stat` field 22): a reused PID is not this run.
  public var processStart: UInt64
  public var startedAt: Date
  public var workload: String
  /// The run's folder, once it is made.
  public var folder: String?

  /// A record of this process, running `workload`.
  init(workload: String) {
    pid = getpid()
    processStart = ProcStat.read(getpid())?.startTime ?? 0
    startedAt = Date()
    self.workload = workload
  }

  static func path(root: String) -> String { root + "/.cthulhu/nemesis-run.json" }

  /// The record of a run alive now; nil when there is none, or it is stale.
  public static func live(root: String) -> NemesisRunRecord? {
    guard let data = FileManager.default.contents(atPath: path(root: root)),
      let r = try? JSONDecoder.cthulhuMilliseconds.decode(NemesisRunRecord.self, from: data), r.isAlive
    else { return nil }
    return r
  }

  /// Its process runs (not a zombie) and is the one that wrote it.
  var isAlive: Bool {
    guard let stat = ProcStat.read(pid) else { return false }
    return stat.state != "Z" && stat.state != "X" && stat.startTime == processStart
  }

  /// This process's run.
  var isMine: Bool { pid == getpid() }

  func save(root: String) throws {
    try AtomicFile.write(try JSONEncoder.cthulhuMilliseconds.encode(self), to: Self.path(root: root))
  }

  static func remove(root: String) { unlink(path(root: root)) }

  /// Names the run for people: `cthulhu test` of workload 'appends' (pid 4242, run folder …).
  public var description: String {
    "`cthulhu test` of workload '\(workload)' (pid \(pid)" + (folder.map { ", run \($0)" } ?? "") + ")"
  }
}

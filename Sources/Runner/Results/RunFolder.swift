import Foundation
import Orchestrator

/// A run's folder, `<fixture root>/runs/<UTC time>-<workload>/`: never
/// overwritten (a name taken gets `-2`, `-3`, …); `runs/latest` links to
/// the newest (Jepsen's `store/<test>/<time>/` and `latest`).
public struct RunFolder: Sendable, Hashable {
  /// The folder's absolute path.
  public var path: String

  public init(path: String) { self.path = path }

  public var history: String { path + "/history.jsonl" }
  public var events: String { path + "/events.jsonl" }
  public var results: String { path + "/results.json" }
  public var junit: String { path + "/junit.xml" }
  public var report: String { path + "/report.html" }
  /// The manifest file as run.
  public var manifest: String { path + "/manifest.yaml" }
  /// `cthulhu plan --json` of the fixture as run.
  public var plan: String { path + "/plan.json" }
  /// Each instance's logs and rendered configuration: `instances/<name>/`.
  public var instances: String { path + "/instances" }
  /// Each worker's client stderr: `clients/worker-NN.log`.
  public var clients: String { path + "/clients" }
  /// The file the instances and clients append properties to (`CTHULHU_ASSERTIONS`).
  public var assertions: String { path + "/assertions.jsonl" }

  /// The runs of a fixture.
  public static func runsFolder(root: String) -> String { root + "/" + FixturePaths.runs }

  /// Makes a new folder for a run of `workload` started at `time`.
  public static func create(root: String, workload: String, time: Date) throws -> RunFolder {
    let runs = runsFolder(root: root)
    try FileManager.default.createDirectory(atPath: runs, withIntermediateDirectories: true)
    let name = try makeNew(in: runs, named: "\(TimeText.stamp(time))-\(workload)")
    let folder = RunFolder(path: runs + "/" + name)
    for sub in [folder.instances, folder.clients] { try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true) }
    // `latest` is replaced by a rename, so a reader never finds it missing.
    let temp = runs + "/.latest-\(getpid())"
    unlink(temp)
    if symlink(name, temp) == 0 { rename(temp, runs + "/latest") }
    return folder
  }

  /// Makes `parent/name`, or `parent/name-2`, `-3`, … when taken, and
  /// returns the name made. mkdir is atomic: two runs started in the same
  /// second get different folders.
  static func makeNew(in parent: String, named base: String) throws -> String {
    var name = base
    var n = 1
    while mkdir(parent + "/" + name, 0o755) != 0 {
      guard errno == EEXIST else { throw RunError.io("cannot make \(parent)/\(name): \(String(cString: strerror(errno)))") }
      n += 1
      name = "\(base)-\(n)"
    }
    return name
  }

  /// The results written there, or nil when the run never finished writing them.
  public func loadResults() throws -> RunResults? {
    guard let data = FileManager.default.contents(atPath: results) else { return nil }
    do { return try RunResults.decoder.decode(RunResults.self, from: data) } catch {
      throw RunError.io("\(results) is unreadable: \(error)")
    }
  }

  /// Every run of the fixture at `root`, oldest first.
  public static func all(root: String) -> [RunFolder] {
    let runs = runsFolder(root: root)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
    return names.filter { $0 != "latest" && !$0.hasPrefix(".") }.sorted().map { RunFolder(path: runs + "/" + $0) }
  }
}

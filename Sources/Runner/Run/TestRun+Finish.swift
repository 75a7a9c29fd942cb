import Foundation
import History
import Manifest
import Orchestrator

extension TestRun {
  /// Collects the fixture's side of the run, checks the history and writes
  /// results.json (with `faults`, the nemesis's from ``NemesisHistory``)
  /// and junit.xml; then the after-results hook.
  func finish(
    folder: RunFolder, workload w: Workload, seed: UInt64, started: Date, clock: UInt64, interrupted: Bool,
    faults: [RunResults.FaultPeriod], problems: [String], eventsFrom: Int
  ) async throws -> (RunFolder, RunResults) {
    let root = manifest.root
    copyEvents(from: FixturePaths(root: root).events, offset: eventsFrom, to: folder.events)
    await collectInstances(into: folder, since: started)
    options.progress("checking the history (\(w.checker))")
    return try Self.conclude(
      folder: folder, workload: w.name, model: w.checker, total: w.total, seed: seed, started: started, clock: clock,
      interrupted: interrupted,
      faults: faults, problems: problems)
  }

  /// Checks the folder's history and writes its results (also `--recheck`);
  /// `total`: bank's (the workload's `total:`); `clock`: the history's
  /// clock (CLOCK_MONOTONIC, ns) at `started`.
  static func conclude(
    folder: RunFolder, into out: RunFolder? = nil, workload: String, model: String, total: Int64? = nil, seed: UInt64, started: Date,
    clock: UInt64? = nil, interrupted: Bool,
    faults: [RunResults.FaultPeriod], problems: [String]
  ) throws -> (RunFolder, RunResults) {
    let out = out ?? folder
    let outcome = RunChecker.check(history: folder.history, model: model, total: total)
    var results = RunResults(
      workload: workload, valid: outcome.valid, model: model, interrupted: interrupted, seed: seed, startedAt: started, endedAt: Date(),
      faults: faults, checker: outcome.json, problems: problems + (outcome.problem.map { [$0] } ?? []))
    results.monotonicStartNs = clock
    if let h = try? History(contentsOf: folder.history) {
      results.counts = RunStatistics.counts(h.operations)
      results.latency = RunStatistics.latency(h.operations)
    }
    try write(results, checker: outcome.valid, to: out)
    let after = try AfterResults.run(folder: folder, results: results)
    if after != results { try write(after, checker: outcome.valid, to: out) }
    return (out, after)
  }

  static func write(_ r: RunResults, checker: Validity, to folder: RunFolder) throws {
    do {
      try RunResults.encoder.encode(r).write(to: URL(fileURLWithPath: folder.results), options: .atomic)
      let seconds = r.endedAt.timeIntervalSince(r.startedAt)
      try JUnitReport.xml(r, checker: checker, seconds: seconds).write(toFile: folder.junit, atomically: true, encoding: .utf8)
    } catch {
      throw RunError.io("cannot write the results in \(folder.path): \(error)")
    }
  }

  /// The fixture's events appended since `offset`.
  func copyEvents(from path: String, offset: Int, to target: String) {
    guard let h = FileHandle(forReadingAtPath: path) else {
      _ = FileManager.default.createFile(atPath: target, contents: Data())
      return
    }
    defer { try? h.close() }
    try? h.seek(toOffset: UInt64(offset))
    let data = (try? h.readToEnd()) ?? Data()
    _ = FileManager.default.createFile(atPath: target, contents: data)
  }

  /// Each instance's output during the run, and its rendered files.
  func collectInstances(into folder: RunFolder, since: Date) async {
    guard let state = try? FixtureState.load(root: manifest.root) else { return }
    let paths = FixturePaths(root: manifest.root)
    for i in state.instances {
      let dir = folder.instances + "/" + i.name
      try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
      for path in i.files.keys.sorted() {
        let target = dir + "/files/" + path
        try? FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.copyItem(atPath: paths.file(ip: i.ip, path: path), toPath: target)
      }
      var log = ""
      if let stream = try? controller.logs(root: manifest.root, names: [i.name], since: since) {
        do {
          for try await (_, line) in stream { log += (line.stream == .stderr ? "E " : "  ") + line.text + "\n" }
        } catch {
          log += "cthulhu: the log ended early: \(error)\n"
        }
      }
      try? log.write(toFile: dir + "/output.log", atomically: true, encoding: .utf8)
    }
  }
}

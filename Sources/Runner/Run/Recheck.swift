import Foundation
import History
import Orchestrator

/// `cthulhu test --recheck RUN [--model M]`: checks a stored run's history
/// again (another model, or a newer checker). The run is left as it was:
/// the new results go to `RUN/rechecks/<UTC time>-<model>/`.
public enum Recheck {
  public static func run(_ path: String, model: String? = nil) throws -> (RunFolder, RunResults) {
    let folder = RunFolder(path: (path as NSString).standardizingPath)
    guard FileManager.default.fileExists(atPath: folder.history) else {
      throw RunError.io("\(path) is not a run folder: it has no history.jsonl")
    }
    let old = try folder.loadResults()
    guard let model = model ?? old?.model else {
      throw RunError.manifest("\(path) has no results.json to take the model from; name one with --model")
    }
    let rechecks = folder.path + "/rechecks"
    try FileManager.default.createDirectory(atPath: rechecks, withIntermediateDirectories: true)
    let target = rechecks + "/" + (try RunFolder.makeNew(in: rechecks, named: "\(TimeText.stamp(Date()))-\(model)"))
    let workload = old?.workload ?? (folder.path as NSString).lastPathComponent
    // bank: the total the run was checked against (its workload's, or its first read's).
    let total = model == "bank" && old?.model == "bank" ? bankTotal(old?.checker) : nil
    return try TestRun.conclude(
      folder: folder, into: RunFolder(path: target), workload: workload, model: model, total: total, seed: old?.seed ?? 0,
      started: old?.startedAt ?? Date(), clock: old?.monotonicStartNs, interrupted: old?.interrupted ?? false, faults: old?.faults ?? [],
      problems: [])
  }

  static func bankTotal(_ checker: HistoryValue?) -> Int64? {
    guard case .object(let c)? = checker, case .int(let t)? = c["total"] else { return nil }
    return t
  }
}

import Foundation
import History
import Orchestrator

/// The properties of a run (`CTHULHU_ASSERTIONS`): the files the instances
/// and the clients append to, the size each had when the run began (the
/// lines before only declare: their hits are another run's), and the
/// verdict of each property for results.json.
public enum RunProperties {
  /// `<run folder>/assertions-start.json`: each file's size at the run's start.
  static func startFile(_ folder: RunFolder) -> String { folder.path + "/assertions-start.json" }

  /// The fixture of a run folder: `<root>/runs/<name>` → `<root>`.
  static func root(of folder: RunFolder) -> String {
    ((folder.path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
  }

  /// Every file the run reads: each instance's (in its `var` mount), then the clients'.
  public static func files(folder: RunFolder) -> [String] {
    let root = root(of: folder)
    let paths = FixturePaths(root: root)
    let instances = ((try? FixtureState.load(root: root)) ?? nil)?.instances ?? []
    return instances.sorted { $0.name < $1.name }.map { paths.assertions(ip: $0.ip) } + [folder.assertions]
  }

  /// Records the size of every file now: call it when the run starts, before the first operation.
  public static func markStart(folder: RunFolder) throws {
    let sizes = PropertyLedger.sizes(files(folder: folder))
    let data = try JSONSerialization.data(withJSONObject: sizes, options: [.sortedKeys])
    try data.write(to: URL(fileURLWithPath: startFile(folder)), options: .atomic)
  }

  /// Each property's verdict over the run, and the lines that were not
  /// assertions (`file:line: why`, at most 20).
  public static func evaluate(folder: RunFolder) throws -> (properties: [RunResults.Property], problems: [String]) {
    var since: [String: Int] = [:]
    if let data = FileManager.default.contents(atPath: startFile(folder)) {
      since = (try? JSONSerialization.jsonObject(with: data)) as? [String: Int] ?? [:]
    }
    let ledger: PropertyLedger
    do { ledger = try PropertyLedger.read(files(folder: folder), since: since) } catch { throw RunError.io("\(error)") }
    let properties = ledger.properties.map {
      RunResults.Property(
        id: $0.id, assert: $0.assert.rawValue, hits: $0.hits, satisfied: $0.trueCount, passed: $0.passed, reason: $0.reason, at: $0.at,
        details: $0.details)
    }
    var problems = ledger.problems.map { "\($0.at): \($0.message)" }
    if ledger.problemCount > problems.count { problems.append("\(ledger.problemCount - problems.count) more lines were not assertions") }
    return (properties, problems)
  }
}

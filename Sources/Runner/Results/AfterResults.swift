import Foundation
import History

/// What runs once `results.json` is written: the properties the system
/// stated about itself (``RunProperties``: the instances' files and
/// ``RunFolder/assertions``) and `report.html`. Returns the results with
/// `properties` filled (and `valid` made false by a failed one); when they
/// differ from what was written, the runner writes results.json and
/// junit.xml again. The report is made of the results returned.
public enum AfterResults {
  public static func run(folder: RunFolder, results: RunResults) throws -> RunResults {
    var out = results
    let (properties, problems) = try RunProperties.evaluate(folder: folder)
    out.properties = properties
    out.problems += problems.map { "assertions: \($0)" }
    if properties.contains(where: { !$0.passed }) { out.valid = out.valid.and(.invalid) }
    try writeReport(folder: folder, results: out)
    return out
  }

  /// `report.html` of `results` and the folder's history.
  public static func writeReport(folder: RunFolder, results: RunResults) throws {
    let json = try JSONDecoder().decode(HistoryValue.self, from: RunResults.encoder.encode(results))
    let events = FileManager.default.fileExists(atPath: folder.history) ? try HistoryParser.parse(contentsOf: folder.history) : []
    let page = RunReport(run: RunData(results: json, events: events)).html
    do { try Data(page.utf8).write(to: URL(fileURLWithPath: folder.report), options: .atomic) } catch {
      throw RunError.io("cannot write \(folder.report): \(error)")
    }
  }
}

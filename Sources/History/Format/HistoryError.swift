/// A history that cannot be checked: each problem names its line, compiler
/// style (`history.jsonl:12: error: …`), and every problem found is reported
/// at once (up to ``HistoryError/limit``).
public struct HistoryError: Error, Sendable, CustomStringConvertible {
  public struct Problem: Sendable, Hashable {
    /// 1-based line in the file; 0 for the history as a whole.
    public var line: Int
    public var message: String
    /// 1-based column, where the format knows it (EDN, JSON arrays); 0 otherwise.
    public var column: Int = 0
  }

  /// Problems beyond this many are counted, not listed.
  public static let limit = 20

  public var file: String
  public var problems: [Problem]
  /// How many problems there were in all (more than `problems` holds past the limit).
  public var total: Int

  init(file: String, problems: [Problem], total: Int? = nil) {
    self.file = file
    self.problems = problems
    self.total = total ?? problems.count
  }

  public var description: String {
    var lines = problems.map { p in
      switch (p.line, p.column) {
      case (0, _): "\(file): error: \(p.message)"
      case (_, 0): "\(file):\(p.line): error: \(p.message)"
      default: "\(file):\(p.line):\(p.column): error: \(p.message)"
      }
    }
    if total > problems.count { lines.append("\(file): \(total - problems.count) more errors not shown") }
    return lines.joined(separator: "\n")
  }
}

/// Collects a history's problems in file order, keeping the first ``HistoryError/limit``.
struct ProblemList {
  var problems: [HistoryError.Problem] = []
  var total = 0

  mutating func add(_ line: Int, _ message: String, column: Int = 0) {
    total += 1
    if problems.count < HistoryError.limit { problems.append(.init(line: line, message: message, column: column)) }
  }

  func check(file: String) throws(HistoryError) {
    guard total == 0 else { throw HistoryError(file: file, problems: problems.sorted { $0.line < $1.line }, total: total) }
  }
}

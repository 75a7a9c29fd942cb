import Foundation

/// One problem in a manifest, at a place in it.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
  /// How bad a diagnostic is; only errors make a manifest invalid.
  public enum Severity: String, Sendable, Hashable {
    case error, warning, note
  }

  /// Where the problem is (line 0: the file as a whole).
  public var location: SourceLocation
  /// What is wrong, and how to fix it when that is clear.
  public var message: String
  /// Error (invalid manifest), warning or note.
  public var severity: Severity

  /// A diagnostic at `location`; an error unless told otherwise.
  public init(at location: SourceLocation, _ message: String, severity: Severity = .error) {
    self.location = location
    self.message = message
    self.severity = severity
  }

  /// `file:line:col: error: message`
  public var description: String {
    let at = location.line > 0 ? location.description : location.file
    return "\(at): \(severity.rawValue): \(message)"
  }
}

/// Every problem found in one manifest, rendered like a compiler's output.
public struct ManifestErrors: Error, Sendable, CustomStringConvertible {
  /// The problems, sorted by line and column.
  public var diagnostics: [Diagnostic]
  /// The manifest's text, for quoting the offending lines.
  public var source: String?

  /// Collects `diagnostics`; `source` (the manifest text) lets ``render()`` quote lines.
  public init(_ diagnostics: [Diagnostic], source: String? = nil) {
    self.diagnostics = diagnostics.sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
    self.source = source
  }

  /// Same as ``render()``.
  public var description: String { render() }

  /// Each diagnostic, then the source line and a caret under the column.
  public func render() -> String {
    let lines = source.map { $0.split(separator: "\n", omittingEmptySubsequences: false) } ?? []
    var out = ""
    for d in diagnostics {
      out += d.description + "\n"
      let l = d.location.line
      if l >= 1, l <= lines.count {
        let text = String(lines[l - 1]).replacingOccurrences(of: "\r", with: "")
        out += text + "\n"
        let pad = text.prefix(max(0, d.location.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
        out += pad + "^\n"
      }
    }
    let errors = diagnostics.filter { $0.severity == .error }.count
    out += "\(errors) error\(errors == 1 ? "" : "s")\n"
    return out
  }
}

/// What stops a run before it can give a verdict.
public struct RunError: Error, Sendable, CustomStringConvertible {
  enum Code: Sendable {
    case io
    case manifest
    case client
    case fixture
  }

  let code: Code
  public let description: String

  static func io(_ m: String) -> RunError { RunError(code: .io, description: m) }
  static func manifest(_ m: String) -> RunError { RunError(code: .manifest, description: m) }
  static func client(_ m: String) -> RunError { RunError(code: .client, description: m) }
  static func fixture(_ m: String) -> RunError { RunError(code: .fixture, description: m) }
}

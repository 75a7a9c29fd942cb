import Foundation

/// An orchestration failure, phrased for the person running cthulhu.
public struct OrchestratorError: Error, Sendable, CustomStringConvertible {
  public enum Code: Sendable, Hashable {
    case corruptState, io, template, subnet, locked, foreign, stalePlan, step, healthcheck, unsupported, exited, user
    /// The folder holds no fixture (no state, nothing labelled with it).
    case noFixture
    /// A name or pattern that matches no instance of the fixture.
    case noInstance
    /// The instance is recorded but its container or process is gone (`apply` makes it again).
    case noContainer
    /// Instances were asked for in a way that cannot be met: none given, or several where one is needed.
    case badTargets
    /// No nemesis was started on the fixture.
    case noNemesis
    /// Something needs the cthulhu binary and none was given (see ``CthulhuExecutable``).
    case noExecutable
    /// A membership change (`join`, `leave`) that did not commit after its attempts.
    case membership
  }
  public var code: Code
  public var message: String
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }
  public var description: String { message }

  static func corruptState(path: String, reason: String) -> Self {
    .init(
      .corruptState,
      "\(path): the fixture state is unreadable (\(reason)); `cthulhu destroy` still finds the fixture's containers, networks and processes by their labels"
    )
  }
  static func io(path: String, errno: Int32) -> Self {
    .init(.io, "\(path): \(String(cString: strerror(errno)))")
  }
  static func template(_ m: String) -> Self { .init(.template, m) }
  static func locked(_ m: String) -> Self { .init(.locked, m) }
}

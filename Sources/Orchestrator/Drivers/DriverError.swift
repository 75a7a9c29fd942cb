/// A driver failure a person can act on: one sentence (``message``, no NIO
/// stack) and a typed cause (``code``).
///
/// Each driver decides the cause once, where its engine's answer arrives
/// (the Docker driver in `DockerClient+Errors.swift`, from the HTTP status,
/// the operation and, only where the engine gives nothing else, its text).
/// Everything above the driver branches on ``code`` and never reads
/// ``message``: an engine that rewords a message changes what people read,
/// not what cthulhu does.
public struct DriverError: Error, Sendable, CustomStringConvertible {
  /// Why an engine call failed. An open set, as async-http-client's
  /// `HTTPClientError` and NIO's `FileSystemError.Code` are: a struct of
  /// static values over a private enum, so a cause added later breaks no
  /// caller; compare with `==` (`e.code == .notFound`).
  public struct Code: Sendable, Hashable, CustomStringConvertible {
    private enum Wrapped: Sendable, Hashable {
      case engineUnavailable, engineGone, notFound, nameInUse, conflict, removalInProgress
      case leftoverRuntimeState, addressInUse, imageUnavailable, buildFailed, unsupported
      case engine(status: Int)
    }
    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The engine could not be reached: no socket, nobody listening, no
    /// permission, or the connection was not made in time. The request
    /// never reached the engine.
    public static let engineUnavailable = Code(.engineUnavailable)
    /// The connection broke, or no answer came in time, after the request
    /// was sent: the engine went away mid-call, and whether the operation
    /// took effect is unknown.
    public static let engineGone = Code(.engineGone)
    /// No such container, network, instance or image.
    public static let notFound = Code(.notFound)
    /// A create whose name another container, network or instance holds.
    public static let nameInUse = Code(.nameInUse)
    /// The object's state, or another object, forbids the operation (a
    /// running container removed without force, a paused one paused again,
    /// a network that still has endpoints).
    public static let conflict = Code(.conflict)
    /// The container is already being removed (by a call still running in
    /// the engine, such as one a killed cthulhu made).
    public static let removalInProgress = Code(.removalInProgress)
    /// The engine will not start the container because of runtime state a
    /// restarted engine found left over from before (a containerd task or
    /// shim folder that outlived a killed dockerd).
    public static let leftoverRuntimeState = Code(.leftoverRuntimeState)
    /// The engine will not start the container because its fixed address is
    /// held in the network, by an endpoint a restarted engine has not yet
    /// released (it cleans up the endpoints of containers that ran when it
    /// was killed a moment after it answers again).
    public static let addressInUse = Code(.addressInUse)
    /// The image is not on this machine and cannot be pulled.
    public static let imageUnavailable = Code(.imageUnavailable)
    public static let buildFailed = Code(.buildFailed)
    /// This driver, mode or engine cannot do what was asked.
    public static let unsupported = Code(.unsupported)
    /// Any other answer, by its HTTP status (the process driver uses it for
    /// a host command that failed).
    public static func engine(status: Int) -> Code { Code(.engine(status: status)) }

    /// The engine did not answer (``engineUnavailable`` or ``engineGone``):
    /// nothing is known about the object, and nothing a second call to the
    /// same engine could repair.
    public var isTransport: Bool { self == .engineUnavailable || self == .engineGone }

    public var description: String {
      switch wrapped {
      case .engineUnavailable: "engineUnavailable"
      case .engineGone: "engineGone"
      case .notFound: "notFound"
      case .nameInUse: "nameInUse"
      case .conflict: "conflict"
      case .removalInProgress: "removalInProgress"
      case .leftoverRuntimeState: "leftoverRuntimeState"
      case .addressInUse: "addressInUse"
      case .imageUnavailable: "imageUnavailable"
      case .buildFailed: "buildFailed"
      case .unsupported: "unsupported"
      case .engine(let status): "engine(status: \(status))"
      }
    }
  }

  public var code: Code
  public var message: String
  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }
  public var description: String { message }

  public static func engineUnavailable(_ m: String) -> Self { .init(.engineUnavailable, m) }
  public static func engineGone(_ m: String) -> Self { .init(.engineGone, m) }
  public static func notFound(_ m: String) -> Self { .init(.notFound, m) }
  public static func nameInUse(_ m: String) -> Self { .init(.nameInUse, m) }
  public static func conflict(_ m: String) -> Self { .init(.conflict, m) }
  public static func unsupported(_ m: String) -> Self { .init(.unsupported, m) }
}

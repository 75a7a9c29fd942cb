import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the driver asked the engine. With the HTTP status it decides the
/// cause of a failure, so that the engine's text is needed only where the
/// two leave it open.
enum EngineOperation: Sendable, Hashable {
  case createContainer
  /// A start or a restart: both make the container's task anew.
  case startContainer
  case removeContainer(force: Bool)
  case createNetwork
  case other
}

extension DockerClient {
  /// The cause of an engine's error answer.
  ///
  /// This is the one place in cthulhu that reads the engine's text, and it
  /// does so only where the status and the operation leave the cause open
  /// (the Engine API 1.41 gives a status and a `message`, nothing more).
  /// What dockerd 20.10 answers, as observed (`DockerErrorMappingTests`
  /// holds them verbatim):
  ///
  /// - 404 to a create: `No such image: <ref>`, the only 404 of a create (a
  ///   missing network is found at start): ``DriverError/Code/imageUnavailable``.
  ///   Any other 404 (`No such container: <id>`, `network <name> not found`):
  ///   ``DriverError/Code/notFound``.
  /// - 409 to a container create: `Conflict. The container name "/<name>" is
  ///   already in use by container "<id>". …`; to a network create (with
  ///   `CheckDuplicate`): `network with name <name> already exists`:
  ///   ``DriverError/Code/nameInUse``.
  /// - 409 to a forced removal: only `removal of container <name> is already
  ///   in progress`: ``DriverError/Code/removalInProgress``. To a removal
  ///   without force it may also be `You cannot remove a running container
  ///   <id>. …`: the text decides (`already in progress`).
  /// - 403 to a start: `Address already in use`, a fixed address held by an
  ///   endpoint a restarted dockerd has not released yet:
  ///   ``DriverError/Code/addressInUse``.
  /// - Any other 409 (`Container <id> is already paused`, `cannot start a
  ///   paused container, try unpause instead`) and 403 (`Pool overlaps with
  ///   other one on this address space`, a network that has active
  ///   endpoints): ``DriverError/Code/conflict``.
  /// - 500 to a start of a container that ran, or was being started, when
  ///   dockerd was killed (its containerd task and shim outlive it): `task
  ///   <id>: already exists`, `failed to start shim: mkdir
  ///   /var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/<id>:
  ///   file exists: unknown`, `id already in use` (runc):
  ///   ``DriverError/Code/leftoverRuntimeState``.
  ///   dockerd reports every containerd failure of a start as a 500 with
  ///   containerd's text (moby `translateContainerdStartErr`), so the text
  ///   decides.
  /// - Anything else: ``DriverError/Code/engine(status:)``.
  ///
  /// A cause this misses is no trap: apply replaces a container that will
  /// not start whatever the cause (``ApplyRetry``), so a reworded message
  /// costs a less precise report, not a fixture that never converges.
  static func cause(status: Int, operation: EngineOperation, message: String) -> DriverError.Code {
    switch (status, operation) {
    case (404, .createContainer): return .imageUnavailable
    case (404, _): return .notFound
    case (409, .createContainer), (409, .createNetwork): return .nameInUse
    case (409, .removeContainer(force: true)): return .removalInProgress
    case (409, .removeContainer(force: false)):
      return message.lowercased().contains("already in progress") ? .removalInProgress : .conflict
    case (403, .startContainer) where message.lowercased().contains("address already in use"): return .addressInUse
    case (409, _), (403, _): return .conflict
    case (500, .startContainer):
      let m = message.lowercased()
      let leftover = [": already exists", "failed to start shim", "id already in use"].contains { m.contains($0) }
      return leftover ? .leftoverRuntimeState : .engine(status: 500)
    default: return .engine(status: status)
    }
  }

  /// An error answer as a ``DriverError``: the cause from ``cause(status:operation:message:)``
  /// and a sentence that says what was asked and what the engine said.
  static func error(status: Int, data: Data, operation: EngineOperation = .other, what: String) -> DriverError {
    let message = engineMessage(data)
    let code = cause(status: status, operation: operation, message: message)
    let said = status == 404 || status == 409 ? message : "the engine answered \(status): \(message)"
    return DriverError(code, "\(what): \(said)")
  }

  /// A request that got no answer: its cause by the error's type (and
  /// errno), and a few words for people.
  ///
  /// ``DriverError/Code/engineUnavailable`` when no connection was made
  /// (so the request never reached the engine), ``DriverError/Code/engineGone``
  /// when one was made and lost, or no answer came in time. An error of a
  /// type not listed here is taken as a lost connection.
  static func transport(_ error: any Error) -> (code: DriverError.Code, why: String) {
    switch error {
    case let e as HTTPClientError:
      switch e {
      case .connectTimeout, .getConnectionFromPoolTimeout: return (.engineUnavailable, "timed out connecting")
      case .remoteConnectionClosed: return (.engineGone, "the engine closed the connection")
      case .readTimeout, .writeTimeout, .deadlineExceeded: return (.engineGone, "timed out waiting for an answer")
      case .alreadyShutdown: return (.engineGone, "the driver was shut down")
      default: return (.engineGone, "\(e)")
      }
    case let e as IOError:
      return transport(errno: e.errnoCode)
    case let e as NIOConnectionError:
      // Every address refused; the first says why.
      let first = e.connectionErrors.first?.error
      let why = (first as? IOError).map { transport(errno: $0.errnoCode).why } ?? "no connection"
      return (.engineUnavailable, why)
    case let e as ChannelError:
      switch e {
      case .connectTimeout: return (.engineUnavailable, "timed out connecting")
      case .ioOnClosedChannel, .alreadyClosed, .eof, .inputClosed, .outputClosed:
        return (.engineGone, "the engine closed the connection")
      default: return (.engineGone, "\(e)")
      }
    default:
      return (.engineGone, "\(type(of: error))")
    }
  }

  /// A socket call's errno: the ones a connect gives mean no engine
  /// listens; the rest mean a connection was lost.
  static func transport(errno e: Int32) -> (code: DriverError.Code, why: String) {
    switch e {
    case ECONNREFUSED: return (.engineUnavailable, "connection refused")
    case ENOENT: return (.engineUnavailable, "no such socket")
    case EACCES, EPERM: return (.engineUnavailable, "permission denied")
    case ETIMEDOUT: return (.engineUnavailable, "timed out connecting")
    case ECONNRESET, EPIPE, ECONNABORTED: return (.engineGone, "the connection was reset")
    default: return (.engineGone, String(cString: strerror(e)))
    }
  }

  /// The sentence for a request that got no answer.
  static func transportError(_ error: any Error, socket: String) -> DriverError {
    let (code, why) = transport(error)
    return transportError(code, why, socket: socket)
  }

  static func transportError(_ code: DriverError.Code, _ why: String, socket: String) -> DriverError {
    code == .engineUnavailable
      ? .engineUnavailable("cannot reach the Docker engine at unix://\(socket): is dockerd running? (\(why))")
      : .engineGone("lost the connection to the Docker engine at unix://\(socket) (\(why))")
  }
}

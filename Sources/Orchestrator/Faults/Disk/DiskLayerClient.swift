import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Why a request to a disk layer got no report. Callers branch on the case:
/// ``notRunning`` means no layer serves that socket (never started, ended,
/// or killed: a dead daemon's socket file refuses), which the request never
/// reached; ``noAnswer`` means it may or may not have been carried out;
/// ``refused`` means the layer read it and did nothing.
public enum DiskLayerClientError: Error, Sendable, Equatable, CustomStringConvertible {
  /// No socket file at that path, or nobody listening on it (`errno`: ENOENT, ECONNREFUSED, …).
  case notRunning(socket: String, errno: Int32)
  /// The connection was made, but no readable reply came: the layer ended
  /// mid-request, or took longer than the timeout.
  case noAnswer(socket: String, reason: String)
  /// The layer answered with an `error`: a bad request, changing nothing.
  case refused(socket: String, message: String)
  /// The path is too long for a unix socket (108 bytes): no layer can listen there.
  case socketPathTooLong(socket: String)

  public var description: String {
    switch self {
    case .notRunning(let socket, let errno):
      #if canImport(Glibc)
      let reason = String(cString: strerror(errno))
      #else
      let reason = "errno \(errno)"
      #endif
      return "no disk layer answers on \(socket) (\(reason)): it is not running"
    case .noAnswer(let socket, let reason): return "the disk layer at \(socket) gave no answer: \(reason)"
    case .refused(let socket, let message): return "the disk layer at \(socket) refused the request: \(message)"
    case .socketPathTooLong(let socket): return "\(socket): too long for a unix socket (108 bytes)"
    }
  }
}

/// Asks a running disk layer (`cthulhu _disk`) over its control socket.
public enum DiskLayerClient {
  /// Sends `request` to the layer whose control socket is `socket` and
  /// returns its reply, which holds no `error` (that is thrown as
  /// ``DiskLayerClientError/refused(socket:message:)``). Waits up to
  /// `timeout` for each read and write (a `lose-unsynced` of a large tree
  /// takes a while).
  public static func request(
    _ request: DiskLayerRequest, socket path: String, timeout: Duration = .seconds(60)
  ) throws(DiskLayerClientError) -> DiskLayerReply {
    #if canImport(Glibc)
    guard let address = UnixLineSocket.address(path) else { throw .socketPathTooLong(socket: path) }
    let fd = UnixLineSocket.newSocket()
    guard fd >= 0 else { throw .noAnswer(socket: path, reason: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard UnixLineSocket.connectOrBind(fd, address, bind: false) == 0 else { throw .notRunning(socket: path, errno: errno) }
    let (seconds, attoseconds) = timeout.components
    UnixLineSocket.setTimeout(fd, seconds: Double(seconds) + Double(attoseconds) / 1e18)
    let data: Data
    do { data = try JSONEncoder().encode(request) } catch { throw .noAnswer(socket: path, reason: "the request could not be encoded: \(error)") }
    guard UnixLineSocket.writeLine(fd, data) else {
      throw .noAnswer(socket: path, reason: "the request could not be sent: \(String(cString: strerror(errno)))")
    }
    guard let line = UnixLineSocket.readLine(fd) else { throw .noAnswer(socket: path, reason: "the connection closed or timed out without a reply") }
    let reply: DiskLayerReply
    do { reply = try JSONDecoder().decode(DiskLayerReply.self, from: line) } catch {
      throw .noAnswer(socket: path, reason: "unreadable reply: \(String(decoding: line.prefix(200), as: UTF8.self))")
    }
    if let message = reply.error { throw .refused(socket: path, message: message) }
    return reply
    #else
    throw .notRunning(socket: path, errno: 0)
    #endif
  }
}

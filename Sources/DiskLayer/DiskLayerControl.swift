#if canImport(CFuse)
import Foundation
import Orchestrator
import Glibc

/// A request to a running ``DiskLayer``: one JSON line on its control
/// socket (`<state>/control.sock`), answered by one JSON line
/// (``DiskLayerReply``), then the connection closes.
public enum DiskLayerRequest: Codable, Sendable, Equatable {
  /// Roll the backing folder back to what was made durable.
  case loseUnsynced(torn: Bool, seed: UInt64)
  /// How much that would undo.
  case status
}

/// The answer to a ``DiskLayerRequest``: the report, or why not.
public struct DiskLayerReply: Codable, Sendable, Equatable {
  public var loss: LossReport?
  public var status: DiskLayerStatus?
  public var error: String?
}

/// The control socket of a disk layer: served by the `cthulhu _disk`
/// process on a thread of its own, asked by ``request(_:socket:)``.
public enum DiskLayerControl {
  /// A unix socket address for `path`, or nil if the path is too long for one.
  static func address(_ path: String) -> sockaddr_un? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    return address
  }

  static func connectOrBind(_ fd: Int32, _ address: sockaddr_un, bind: Bool) -> Int32 {
    var address = address
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind ? Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) : connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
  }

  /// Listens on `layer`'s control socket and answers on a detached thread.
  public static func serve(_ layer: DiskLayer) throws {
    let path = layer.folders.socket
    guard let address = address(path) else { throw OrchestratorError(.io, "\(path): too long for a unix socket (108 bytes)") }
    unlink(path)
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0, connectOrBind(fd, address, bind: true) == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
      throw OrchestratorError(.io, "\(path): \(String(cString: strerror(errno)))")
    }
    let thread = Thread {
      // The stop signals go to the FUSE loop's thread, whose read of
      // /dev/fuse they interrupt; on this one they would end nothing.
      var stops = sigset_t()
      sigemptyset(&stops)
      for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stops, signal) }
      pthread_sigmask(SIG_BLOCK, &stops, nil)
      while true {
        // Wakes each second to see whether the FUSE loop must be kicked again.
        var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&ready, 1, 1000) > 0 else {
          DiskLayerSignals.kickIfStopping()
          continue
        }
        let client = accept(fd, nil, nil)
        if client < 0 { continue }
        // A client that connects and says nothing holds the socket 5 s at most.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        answer(client, layer)
        close(client)
      }
    }
    thread.start()
  }

  /// Reads one request line from `client` and writes the reply.
  static func answer(_ client: Int32, _ layer: DiskLayer) {
    var reply = DiskLayerReply()
    if let line = readLine(client) {
      switch try? JSONDecoder().decode(DiskLayerRequest.self, from: line) {
      case .loseUnsynced(let torn, let seed)?: reply.loss = layer.loseUnsynced(torn: torn, seed: seed)
      case .status?: reply.status = layer.status()
      case nil: reply.error = "unreadable request: \(String(decoding: line, as: UTF8.self))"
      }
    } else {
      reply.error = "no request"
    }
    var data = (try? JSONEncoder().encode(reply)) ?? Data("{}".utf8)
    data.append(0x0A)
    data.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = write(client, raw.baseAddress! + sent, raw.count - sent)
        if n <= 0 { break }
        sent += n
      }
    }
  }

  /// Bytes up to the first newline (or the end), at most 1 MiB; nil if there were none.
  static func readLine(_ fd: Int32) -> Data? {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.count < 1 << 20 {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n <= 0 { break }
      data.append(contentsOf: buffer[..<n])
      if let newline = data.firstIndex(of: 0x0A) { return data[..<newline] }
    }
    return data.isEmpty ? nil : data
  }

  /// Sends `request` to the layer whose control socket is `socket` and returns its reply.
  public static func request(_ request: DiskLayerRequest, socket path: String) throws -> DiskLayerReply {
    guard let address = address(path) else { throw OrchestratorError(.io, "\(path): too long for a unix socket (108 bytes)") }
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw OrchestratorError(.io, "\(path): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    guard connectOrBind(fd, address, bind: false) == 0 else {
      throw OrchestratorError(.io, "the disk layer does not answer on \(path): \(String(cString: strerror(errno)))")
    }
    var data = try JSONEncoder().encode(request)
    data.append(0x0A)
    let sent = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard sent == data.count, let line = readLine(fd) else { throw OrchestratorError(.io, "the disk layer at \(path) gave no answer") }
    let reply = try JSONDecoder().decode(DiskLayerReply.self, from: line)
    if let error = reply.error { throw OrchestratorError(.io, "the disk layer at \(path): \(error)") }
    return reply
  }
}
#endif

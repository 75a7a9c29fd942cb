#if canImport(CFuse)
import Foundation
import Orchestrator
import Glibc

/// The control socket of a disk layer: served by the `cthulhu _disk`
/// process on a thread of its own; asked with `DiskLayerClient`
/// (Orchestrator), which holds the requests and replies.
public enum DiskLayerControl {
  /// Listens on `layer`'s control socket and answers on a detached thread.
  public static func serve(_ layer: DiskLayer) throws {
    let path = layer.folders.socket
    guard let address = UnixLineSocket.address(path) else { throw OrchestratorError(.io, "\(path): too long for a unix socket (108 bytes)") }
    unlink(path)
    let fd = UnixLineSocket.newSocket()
    guard fd >= 0, UnixLineSocket.connectOrBind(fd, address, bind: true) == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
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
        UnixLineSocket.setTimeout(client, seconds: 5)
        answer(client, layer)
        close(client)
      }
    }
    thread.start()
  }

  /// The reply's line: keys sorted and slashes as they are, for people reading it.
  static func encode(_ reply: DiskLayerReply) -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return (try? encoder.encode(reply)) ?? Data("{}".utf8)
  }

  /// Reads one request line from `client` and writes the reply.
  static func answer(_ client: Int32, _ layer: DiskLayer) {
    var reply = DiskLayerReply()
    guard let line = UnixLineSocket.readLine(client) else {
      reply.error = "no request"
      UnixLineSocket.writeLine(client, encode(reply))
      return
    }
    do {
      switch try JSONDecoder().decode(DiskLayerRequest.self, from: line) {
      case .loseUnsynced(let torn, let seed): reply.loss = layer.loseUnsynced(torn: torn, seed: seed)
      case .status: reply.status = layer.status()
      case .sync: reply.status = layer.syncAll()
      case .rules(let change): reply.rules = try layer.faults.change(change)
      }
    } catch let error as DiskRuleError {
      reply.error = "refused, nothing changed: \(error)"
    } catch {
      reply.error = "unreadable request: \(String(decoding: line, as: UTF8.self))"
    }
    UnixLineSocket.writeLine(client, encode(reply))
  }
}
#endif

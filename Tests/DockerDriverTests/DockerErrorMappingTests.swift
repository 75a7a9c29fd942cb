import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

@testable import Orchestrator

#if canImport(Glibc)
import Glibc
#endif

/// The Docker driver's one mapping from engine answers to causes, fed the
/// statuses and messages dockerd 20.10 (API 1.41) gave on this machine
/// (docs/hardening.md says how each was made), and the mapping of transport
/// errors by type. No engine needed.
final class DockerErrorMappingTests: XCTestCase {
  typealias Code = DriverError.Code

  func cause(_ status: Int, _ op: EngineOperation, _ message: String) -> Code {
    DockerClient.cause(status: status, operation: op, message: message)
  }

  func testNameConflict() {
    let m = """
      Conflict. The container name "/engprobe-a" is already in use by container \
      "f1d088feb7d7b12478d94470fd5e71407dfa09e2d343c430a8460d57b554fa4f". You have to remove (or rename) that container \
      to be able to reuse that name.
      """
    XCTAssertEqual(cause(409, .createContainer, m), .nameInUse)
    XCTAssertEqual(cause(409, .createNetwork, "network with name engprobe-net already exists"), .nameInUse)
  }

  func testRemovalInProgress() {
    let m = "removal of container engprobe-a is already in progress"
    XCTAssertEqual(cause(409, .removeContainer(force: true), m), .removalInProgress)
    XCTAssertEqual(cause(409, .removeContainer(force: false), m), .removalInProgress)
    let running = """
      You cannot remove a running container f1d088feb7d7b12478d94470fd5e71407dfa09e2d343c430a8460d57b554fa4f. \
      Stop the container before attempting removal or force remove
      """
    XCTAssertEqual(cause(409, .removeContainer(force: false), running), .conflict)
  }

  func testLeftoverRuntimeStateOfARestartedEngine() {
    // What dockerd answered, started again after a SIGKILL, to a start of a
    // container that ran, or was being started, when it was killed
    // (EngineGoneTests, 2026-12-02: 60 remakes in 20 trials, these three texts).
    let task = "task b458d438474f2398e6a414d286f94cd0767ed26b52161ebf9143a7b3130e2c08: already exists"
    XCTAssertEqual(cause(500, .startContainer, task), .leftoverRuntimeState)
    let shim = """
      failed to start shim: mkdir /var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/\
      702d5f3763c78ce1972a3d06422b0562cc0cdd3a1afa1bc5272f10c52b3201ea: file exists: unknown
      """
    XCTAssertEqual(cause(500, .startContainer, shim), .leftoverRuntimeState)
    XCTAssertEqual(cause(500, .startContainer, "id already in use"), .leftoverRuntimeState)
    // The same words from another operation, or with another status, are not that.
    XCTAssertEqual(cause(500, .other, task), .engine(status: 500))
    XCTAssertEqual(cause(400, .startContainer, task), .engine(status: 400))
    // A port another process holds is no leftover.
    let port =
      "driver failed programming external connectivity on endpoint x: Error starting userland proxy: listen tcp4 0.0.0.0:30000: bind: address already in use"
    XCTAssertEqual(cause(500, .startContainer, port), .engine(status: 500))
    // An unforeseen start failure is a plain engine error (the executor remakes the container all the same).
    XCTAssertEqual(cause(500, .startContainer, "something nobody has seen yet"), .engine(status: 500))
  }

  func testNotFound() {
    XCTAssertEqual(cause(404, .other, "No such container: engprobe-zzz"), .notFound)
    XCTAssertEqual(cause(404, .startContainer, "No such container: engprobe-zzz"), .notFound)
    XCTAssertEqual(cause(404, .removeContainer(force: true), "No such container: engprobe-zzz"), .notFound)
    XCTAssertEqual(cause(404, .other, "network engprobe-nonet not found"), .notFound)
    // A start whose network is gone: found at start, not at create.
    XCTAssertEqual(cause(404, .startContainer, "network engprobe-nonet not found"), .notFound)
    XCTAssertEqual(
      cause(404, .other, "no such image: cthulhu-nonexistent:nope: No such image: cthulhu-nonexistent:nope"), .notFound)
  }

  func testImageMissingAtCreate() {
    XCTAssertEqual(cause(404, .createContainer, "No such image: cthulhu-nonexistent:nope"), .imageUnavailable)
  }

  func testOtherConflictsAndStatuses() {
    XCTAssertEqual(cause(409, .other, "Container f1d088feb7d7 is already paused"), .conflict)
    XCTAssertEqual(cause(409, .startContainer, "cannot start a paused container, try unpause instead"), .conflict)
    XCTAssertEqual(cause(403, .createNetwork, "Pool overlaps with other one on this address space"), .conflict)
    XCTAssertEqual(cause(403, .startContainer, "Address already in use"), .addressInUse)
    XCTAssertEqual(cause(403, .createNetwork, "Address already in use"), .conflict, "only a start's")
    XCTAssertEqual(cause(500, .other, "Container f1d088feb7d7 is not paused"), .engine(status: 500))
  }

  func testErrorSentences() {
    let data = Data(#"{"message":"No such container: x"}"#.utf8)
    let e = DockerClient.error(status: 404, data: data, what: "start x")
    XCTAssertEqual(e.code, .notFound)
    XCTAssertEqual(e.message, "start x: No such container: x")
    let s = DockerClient.error(status: 500, data: Data(#"{"message":"boom"}"#.utf8), operation: .startContainer, what: "start x")
    XCTAssertEqual(s.code, .engine(status: 500))
    XCTAssertEqual(s.message, "start x: the engine answered 500: boom")
  }

  func testTransportErrorsByType() {
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: ECONNREFUSED, reason: "connect")).code, .engineUnavailable)
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: ECONNREFUSED, reason: "connect")).why, "connection refused")
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: ENOENT, reason: "connect")).why, "no such socket")
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: EACCES, reason: "connect")).why, "permission denied")
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: ECONNRESET, reason: "read")).code, .engineGone)
    XCTAssertEqual(DockerClient.transport(IOError(errnoCode: EPIPE, reason: "write")).code, .engineGone)
    XCTAssertEqual(DockerClient.transport(HTTPClientError.connectTimeout).code, .engineUnavailable)
    XCTAssertEqual(DockerClient.transport(HTTPClientError.remoteConnectionClosed).code, .engineGone)
    XCTAssertEqual(DockerClient.transport(HTTPClientError.deadlineExceeded).code, .engineGone)
    XCTAssertEqual(DockerClient.transport(ChannelError.connectTimeout(.seconds(3))).code, .engineUnavailable)
    XCTAssertEqual(DockerClient.transport(ChannelError.eof).code, .engineGone)
    XCTAssertEqual(DockerClient.transport(ChannelError.ioOnClosedChannel).code, .engineGone)
    struct Odd: Error {}
    XCTAssertEqual(DockerClient.transport(Odd()).code, .engineGone)
    XCTAssertTrue(Code.engineGone.isTransport && Code.engineUnavailable.isTransport)
    XCTAssertFalse(Code.leftoverRuntimeState.isTransport || Code.engine(status: 500).isTransport)
  }

  // MARK: - Against a socket that hangs up

  /// An "engine" that answers `/version` and hangs up on every other
  /// request without a word, as a dockerd killed mid-call does; it counts
  /// the requests it hung up on, by method.
  final class HangUp: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    init(path: String) throws {
      self.path = path
      fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
      var addr = sockaddr_un()
      addr.sun_family = sa_family_t(AF_UNIX)
      withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1))) }
      let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
      }
      guard rc == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
      Thread.detachNewThread { [self] in serve() }
    }

    func count(_ method: String) -> Int { lock.withLock { counts[method, default: 0] } }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    private func serve() {
      while true {
        let c = accept(fd, nil, nil)
        if c < 0 { return }
        var request: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        // Up to the end of the head (these requests have no body to wait for).
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n") {
          let n = read(c, &buf, buf.count)
          if n <= 0 { break }
          request += buf[..<n]
        }
        let head = String(decoding: request, as: UTF8.self)
        if head.hasPrefix("GET /version ") {
          let body = #"{"ApiVersion":"1.41"}"#
          let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
          _ = answer.withCString { write(c, $0, strlen($0)) }
        } else if let method = head.split(separator: " ").first {
          lock.withLock { counts[String(method), default: 0] += 1 }
        }
        close(c)
      }
    }
  }

  func testAGetThatLosesItsConnectionIsRetriedAndAPostIsNot() async throws {
    let path = NSTemporaryDirectory() + "cthulhu-hangup-\(UUID().uuidString.prefix(8)).sock"
    let server = try HangUp(path: path)
    defer {
      server.stop()
      unlink(path)
    }
    let d = try DockerDriver(environment: ["DOCKER_HOST": "unix://" + path])
    let t0 = ContinuousClock.now
    do {
      _ = try await d.networks()
      XCTFail("an engine that hangs up answered")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineGone, e.message)
      XCTAssertTrue(e.message.hasPrefix("lost the connection to the Docker engine at unix://\(path) ("), e.message)
    }
    XCTAssertGreaterThan(server.count("GET"), 1, "a GET that got no answer is sent again")
    XCTAssertLessThan(ContinuousClock.now - t0, DockerClient.patience + .seconds(2), "for a few seconds at most")
    do {
      try await d.start(id: "x")
      XCTFail("an engine that hangs up started a container")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineGone, e.message)
    }
    XCTAssertEqual(server.count("POST"), 1, "a POST may have reached the engine: it is sent once")
    try await d.shutdown()
  }
}

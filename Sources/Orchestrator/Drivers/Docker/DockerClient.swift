import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
private let sysConnect = Glibc.connect
#elseif canImport(Darwin)
import Darwin
private let sysConnect = Darwin.connect
#endif

/// HTTP to the Docker Engine API over its unix socket, with AsyncHTTPClient.
/// Every failure becomes one ``DriverError`` sentence with its cause
/// (`DockerClient+Errors.swift`).
final class DockerClient: Sendable {
  /// `/var/run/docker.sock`
  let socket: String
  /// `/v1.41`, set once the engine's version is known.
  let prefix: String
  private let connections: Connections

  /// How long a connection refused (a socket file whose daemon is gone, or
  /// is being started again) is asked again before the engine is reported
  /// unavailable, and how long a GET that lost its connection is retried.
  static let patience: Duration = .seconds(3)

  static func socketPath(from env: [String: String]) throws -> String {
    guard let host = env["DOCKER_HOST"], !host.isEmpty else { return "/var/run/docker.sock" }
    guard host.hasPrefix("unix://") else {
      throw DriverError(.unsupported, "DOCKER_HOST=\(host): cthulhu talks to the engine over a unix socket only (unix:///path)")
    }
    return String(host.dropFirst("unix://".count))
  }

  /// Connects and negotiates the API version (the engine's, at most 1.41, which our requests are written for).
  static func connect(socket: String) async throws -> DockerClient {
    guard FileManager.default.fileExists(atPath: socket) else {
      throw transportError(.engineUnavailable, "no such socket", socket: socket)
    }
    // A socket file left by a dead dockerd refuses at once (the HTTP client
    // would retry until its connect timeout); one whose dockerd is starting
    // again refuses for a moment. Plain connects, for a few seconds.
    let end = ContinuousClock.now + patience
    var refused = probe(socket)
    while refused == ECONNREFUSED, ContinuousClock.now < end {
      try await Task.sleep(for: .milliseconds(100))
      refused = probe(socket)
    }
    if let refused {
      let (code, why) = transport(errno: refused)
      throw transportError(code, why, socket: socket)
    }
    let connections = Connections()
    let probe = DockerClient(connections: connections, socket: socket, prefix: "")
    do {
      let v = try await probe.json(VersionResponse.self, "GET", "/version")
      return DockerClient(connections: connections, socket: socket, prefix: "/v" + Self.negotiate(v.ApiVersion))
    } catch {
      try? await connections.shutdown()
      throw error
    }
  }

  /// One plain connect to the socket: nil when something accepts, else the
  /// errno of a connect that says no engine listens there.
  static func probe(_ path: String) -> Int32? {
    #if canImport(Glibc) || canImport(Darwin)
    #if canImport(Glibc)
    let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = Darwin.socket(AF_UNIX, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    let fits = withUnsafeMutableBytes(of: &addr.sun_path) { raw -> Bool in
      guard bytes.count < raw.count else { return false }
      raw.copyBytes(from: bytes)
      return true
    }
    guard fits else { return nil }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sysConnect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    if rc == 0 { return nil }
    let e = errno
    return [ECONNREFUSED, ENOENT, EACCES, EPERM].contains(e) ? e : nil
    #else
    return nil
    #endif
  }

  static func negotiate(_ engine: String) -> String {
    let ours = "1.41"
    let parse = { (s: String) in s.split(separator: ".").compactMap { Int($0) } }
    return parse(engine).lexicographicallyPrecedes(parse(ours)) ? engine : ours
  }

  private init(connections: Connections, socket: String, prefix: String) {
    self.connections = connections
    self.socket = socket
    self.prefix = prefix
  }

  func shutdown() async throws { try await connections.shutdown() }

  func url(_ path: String, _ query: [String: String] = [:]) -> String {
    let encodedSocket = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
    var c = URLComponents()
    c.queryItems = query.isEmpty ? nil : query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
    let q = c.percentEncodedQuery.map { "?" + $0.replacingOccurrences(of: "+", with: "%2B") } ?? ""
    return "http+unix://\(encodedSocket)\(prefix)\(path)\(q)"
  }

  /// Sends one request; returns the response with its body still to read.
  func send(
    _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
    contentType: String = "application/json", timeout: TimeAmount = .seconds(120)
  ) async throws -> HTTPClientResponse {
    let req = request(method, path, query: query, body: body, contentType: contentType)
    return try await exchange(method) { http in try await http.execute(req, timeout: timeout) }
  }

  /// Sends and collects the body; non-2xx answers become ``DriverError``s
  /// with their cause decided from `operation` and the status.
  @discardableResult
  func call(
    _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
    ok: Set<Int> = [], timeout: TimeAmount = .seconds(120), operation: EngineOperation = .other, what: String
  ) async throws -> Data {
    let req = request(method, path, query: query, body: body, contentType: "application/json")
    let (code, data) = try await exchange(method) { http in
      let resp = try await http.execute(req, timeout: timeout)
      return (Int(resp.status.code), try await Self.collect(resp))
    }
    if (200..<300).contains(code) || ok.contains(code) { return data }
    throw Self.error(status: code, data: data, operation: operation, what: what)
  }

  private func request(_ method: String, _ path: String, query: [String: String], body: Data?, contentType: String) -> HTTPClientRequest {
    var req = HTTPClientRequest(url: url(path, query))
    req.method = HTTPMethod(rawValue: method)
    // The engine answers 400 "missing required Host header" without one.
    req.headers.replaceOrAdd(name: "Host", value: "docker")
    if let body {
      req.headers.replaceOrAdd(name: "Content-Type", value: contentType)
      req.body = .bytes(ByteBuffer(bytes: body))
    }
    return req
  }

  /// Runs one request (`attempt`: send, and perhaps read the answer) on the
  /// current HTTP client. A request that gets no answer puts a fresh client
  /// in place, so no pooled connection to an engine that went away is used
  /// again, and becomes a ``DriverError`` by the error's type.
  ///
  /// Only a GET is sent again (on the fresh client, for ``patience`` at
  /// most): it changes nothing, so a second one is safe; any other request
  /// may have reached the engine and is reported instead. (The HTTP client
  /// itself retries making a connection, for any request, until its connect
  /// timeout: that request was never sent.)
  private func exchange<T>(_ method: String, _ attempt: (HTTPClient) async throws -> T) async throws -> T {
    let end = ContinuousClock.now + Self.patience
    var pause = Duration.milliseconds(50)
    while true {
      let http = connections.current
      do {
        return try await attempt(http)
      } catch let e as DriverError {
        throw e
      } catch {
        if error is CancellationError || Task.isCancelled { throw error }
        connections.replace(http)
        let (code, why) = Self.transport(error)
        guard method == "GET", ContinuousClock.now + pause < end else { throw Self.transportError(code, why, socket: socket) }
        try await Task.sleep(for: pause)
        pause *= 2
      }
    }
  }

  /// The whole body (raw transport errors: inside ``exchange(_:_:)`` only).
  private static func collect(_ resp: HTTPClientResponse) async throws -> Data {
    var buf = try await resp.body.collect(upTo: 256 << 20)
    return Data(buf.readBytes(length: buf.readableBytes) ?? [])
  }

  /// The whole body of an answer from ``send(_:_:query:body:contentType:timeout:)``;
  /// an engine gone away while it is read is a ``DriverError``.
  func collect(_ resp: HTTPClientResponse) async throws -> Data {
    do {
      return try await Self.collect(resp)
    } catch {
      if error is CancellationError || Task.isCancelled { throw error }
      throw Self.transportError(error, socket: socket)
    }
  }

  /// The `message` of an engine error body (or the body itself).
  static func engineMessage(_ data: Data) -> String {
    (try? JSONDecoder().decode(EngineMessage.self, from: data))?.message
      ?? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A response body whose transport failures (the engine going away
  /// mid-stream) surface as one ``DriverError`` sentence.
  func body(_ resp: HTTPClientResponse) -> EngineBody { EngineBody(base: resp.body, socket: socket) }

  struct EngineBody: AsyncSequence {
    typealias Element = ByteBuffer
    let base: HTTPClientResponse.Body
    let socket: String
    func makeAsyncIterator() -> Iterator { Iterator(base: base.makeAsyncIterator(), socket: socket) }
    struct Iterator: AsyncIteratorProtocol {
      var base: HTTPClientResponse.Body.AsyncIterator
      let socket: String
      mutating func next() async throws -> ByteBuffer? {
        do {
          return try await base.next()
        } catch {
          if error is DriverError || error is CancellationError || Task.isCancelled { throw error }
          throw DockerClient.transportError(error, socket: socket)
        }
      }
    }
  }

  func json<T: Decodable>(
    _ type: T.Type, _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
    operation: EngineOperation = .other
  ) async throws -> T {
    let data = try await call(method, path, query: query, body: body, operation: operation, what: "\(method) \(path)")
    do {
      return try JSONDecoder().decode(T.self, from: data)
    } catch {
      throw DriverError(.engine(status: 200), "\(method) \(path): unexpected answer from the engine (\(error))")
    }
  }

  struct VersionResponse: Decodable { var ApiVersion: String }
  struct EngineMessage: Decodable { var message: String }
}

/// The engine's multiplexed stdout/stderr stream (no TTY): frames of an 8-byte
/// header (stream, 0, 0, 0, big-endian length) and a payload.
struct StreamDemuxer {
  private var pending: [UInt8] = []

  /// Feeds bytes; returns the complete frames.
  mutating func feed(_ bytes: [UInt8]) -> [(stream: LogLine.Stream, payload: [UInt8])] {
    pending += bytes
    var out: [(LogLine.Stream, [UInt8])] = []
    var i = 0
    while pending.count - i >= 8 {
      let n = Int(pending[i + 4]) << 24 | Int(pending[i + 5]) << 16 | Int(pending[i + 6]) << 8 | Int(pending[i + 7])
      guard pending.count - i - 8 >= n else { break }
      out.append((pending[i] == 2 ? .stderr : .stdout, Array(pending[(i + 8)..<(i + 8 + n)])))
      i += 8 + n
    }
    pending.removeFirst(i)
    return out
  }
}

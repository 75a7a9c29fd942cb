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
/// Every failure becomes one ``DriverError`` sentence.
final class DockerClient: Sendable {
  let http: HTTPClient
  /// `/var/run/docker.sock`
  let socket: String
  /// `/v1.41`, set once the engine's version is known.
  let prefix: String

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
      throw DriverError.engineUnavailable("cannot reach the Docker engine at unix://\(socket): is dockerd running? (no such socket)")
    }
    // A socket file left by a dead dockerd refuses at once; the HTTP client
    // would retry until its connect timeout.
    if let why = probe(socket) {
      throw DriverError.engineUnavailable("cannot reach the Docker engine at unix://\(socket): is dockerd running? (\(why))")
    }
    var config = HTTPClient.Configuration()
    // A local socket answers at once or not at all.
    config.timeout.connect = .seconds(3)
    let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    let probe = DockerClient(http: http, socket: socket, prefix: "")
    do {
      let v = try await probe.json(VersionResponse.self, "GET", "/version")
      return DockerClient(http: http, socket: socket, prefix: "/v" + Self.negotiate(v.ApiVersion))
    } catch {
      try? await http.shutdown()
      throw error
    }
  }

  /// One plain connect to the socket: nil when something accepts, else why not.
  static func probe(_ path: String) -> String? {
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
    switch errno {
    case ECONNREFUSED: return "connection refused"
    case ENOENT: return "no such socket"
    case EACCES, EPERM: return "permission denied"
    default: return nil
    }
    #else
    return nil
    #endif
  }

  static func negotiate(_ engine: String) -> String {
    let ours = "1.41"
    let parse = { (s: String) in s.split(separator: ".").compactMap { Int($0) } }
    return parse(engine).lexicographicallyPrecedes(parse(ours)) ? engine : ours
  }

  private init(http: HTTPClient, socket: String, prefix: String) {
    self.http = http
    self.socket = socket
    self.prefix = prefix
  }

  func shutdown() async throws { try await http.shutdown() }

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
    var req = HTTPClientRequest(url: url(path, query))
    req.method = HTTPMethod(rawValue: method)
    // The engine answers 400 "missing required Host header" without one.
    req.headers.replaceOrAdd(name: "Host", value: "docker")
    if let body {
      req.headers.replaceOrAdd(name: "Content-Type", value: contentType)
      req.body = .bytes(ByteBuffer(bytes: body))
    }
    do {
      return try await http.execute(req, timeout: timeout)
    } catch {
      throw DriverError.engineUnavailable(
        "cannot reach the Docker engine at unix://\(socket): is dockerd running? (\(Self.describe(error)))")
    }
  }

  static func describe(_ error: any Error) -> String {
    let s = String(describing: error)
    if s.contains("connection refused") || s.contains("Connection refused") { return "connection refused" }
    if s.contains("No such file") || s.contains("ENOENT") || s.contains("errno: 2") { return "no such socket" }
    if s.contains("ermission denied") { return "permission denied" }
    if s.contains("deadlineExceeded") || s.contains("timeout") { return "timed out" }
    return s.count > 120 ? String(s.prefix(120)) + "…" : s
  }

  /// Sends and collects the body; non-2xx answers become ``DriverError``s.
  @discardableResult
  func call(
    _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil,
    ok: Set<Int> = [], timeout: TimeAmount = .seconds(120), what: String
  ) async throws -> Data {
    let resp = try await send(method, path, query: query, body: body, timeout: timeout)
    let data = try await Self.collect(resp)
    let code = Int(resp.status.code)
    if (200..<300).contains(code) || ok.contains(code) { return data }
    throw Self.error(code: code, data: data, what: what)
  }

  static func collect(_ resp: HTTPClientResponse) async throws -> Data {
    var buf = try await resp.body.collect(upTo: 256 << 20)
    return Data(buf.readBytes(length: buf.readableBytes) ?? [])
  }

  /// The `message` of an engine error body (or the body itself).
  static func engineMessage(_ data: Data) -> String {
    (try? JSONDecoder().decode(EngineMessage.self, from: data))?.message
      ?? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// A response body whose transport failures (the engine going away
  /// mid-stream) surface as one ``DriverError`` sentence.
  func body(_ resp: HTTPClientResponse) -> EngineBody { Self.body(resp, socket: socket) }
  static func body(_ resp: HTTPClientResponse, socket: String) -> EngineBody { EngineBody(base: resp.body, socket: socket) }

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
          if error is DriverError || Task.isCancelled { throw error }
          throw DriverError.engineUnavailable(
            "lost the connection to the Docker engine at unix://\(socket) (\(DockerClient.describe(error)))")
        }
      }
    }
  }

  static func error(code: Int, data: Data, what: String) -> DriverError {
    let message = engineMessage(data)
    switch code {
    case 404: return .notFound("\(what): \(message)")
    case 409: return .conflict("\(what): \(message)")
    default: return DriverError(.engine(status: code), "\(what): the engine answered \(code): \(message)")
    }
  }

  func json<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, query: [String: String] = [:], body: Data? = nil) async throws -> T {
    let data = try await call(method, path, query: query, body: body, what: "\(method) \(path)")
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

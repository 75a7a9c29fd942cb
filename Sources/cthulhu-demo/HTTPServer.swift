import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the routes see it: the whole body collected.
struct Request: Sendable {
  var method: HTTPMethod
  var path: String
  var body: Data
}

struct Response: Sendable {
  var status: HTTPResponseStatus
  var body: String
  var contentType = "text/plain; charset=utf-8"

  static func json(_ status: HTTPResponseStatus, _ value: some Encodable) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("null".utf8)
    return Response(status: status, body: String(decoding: data, as: UTF8.self) + "\n", contentType: "application/json")
  }
}

/// A small HTTP/1.1 server on SwiftNIO: one task a connection, requests
/// answered in order, keep-alive honoured.
enum HTTPServer {
  typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

  /// Binds `host:port`, then serves until the task is cancelled. Throws if the bind fails.
  static func serve(
    host: String, port: Int, handler: @escaping @Sendable (Request) async -> Response
  ) async throws {
    let server = try await ServerBootstrap(group: NIOSingletons.posixEventLoopGroup)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      // `printf 'GET /admin HTTP/1.0\r\n\r\n' | nc HOST PORT` shuts its side once sent: still answer.
      .childChannelOption(.allowRemoteHalfClosure, value: true)
      .bind(host: host, port: port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          return try Connection(wrappingChannelSynchronously: channel)
        }
      }
    try await withThrowingDiscardingTaskGroup { group in
      try await server.executeThenClose { connections in
        for try await connection in connections {
          group.addTask { await serve(connection, handler) }
        }
      }
    }
  }

  private static func serve(_ connection: Connection, _ handler: @Sendable (Request) async -> Response) async {
    try? await connection.executeThenClose { inbound, outbound in
      var head: HTTPRequestHead?
      var body = Data()
      for try await part in inbound {
        switch part {
        case .head(let h):
          head = h
          body = Data()
        case .body(let buffer):
          body.append(contentsOf: buffer.readableBytesView)
        case .end:
          guard let h = head else { continue }
          let path = String(h.uri.prefix { $0 != "?" })
          let response = await handler(Request(method: h.method, path: path, body: body))
          var headers = HTTPHeaders()
          headers.add(name: "Content-Type", value: response.contentType)
          headers.add(name: "Content-Length", value: String(response.body.utf8.count))
          var responseHead = HTTPResponseHead(version: h.version, status: response.status, headers: headers)
          responseHead.headers.add(name: "Connection", value: h.isKeepAlive ? "keep-alive" : "close")
          try await outbound.write(.head(responseHead))
          try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
          try await outbound.write(.end(nil))
          if !h.isKeepAlive { return }
        }
      }
    }
  }
}

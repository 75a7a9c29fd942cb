import AsyncHTTPClient
import NIOCore
import Synchronization

extension DockerClient {
  /// The HTTP client that requests go out on.
  ///
  /// After a request that got no answer a fresh client takes its place, so
  /// no pooled connection to an engine that went away (a dockerd killed
  /// and started again) is used again. The replaced clients are shut down
  /// with the driver, not at once: shutting one down would cancel the
  /// requests other steps still have on it.
  final class Connections: Sendable {
    private let state: Mutex<(current: HTTPClient, retired: [HTTPClient])>

    init() { state = Mutex((current: Self.make(), retired: [])) }

    var current: HTTPClient { state.withLock { $0.current } }

    /// Puts a fresh client in place of `failed`, unless another request
    /// that failed on it did so already.
    func replace(_ failed: HTTPClient) {
      state.withLock { s in
        guard s.current === failed else { return }
        s.retired.append(s.current)
        s.current = Self.make()
      }
    }

    func shutdown() async throws {
      let all = state.withLock { [$0.current] + $0.retired }
      var first: (any Error)?
      for client in all {
        do { try await client.shutdown() } catch { first = first ?? error }
      }
      if let first { throw first }
    }

    private static func make() -> HTTPClient {
      var config = HTTPClient.Configuration()
      // A local socket answers at once or not at all.
      config.timeout.connect = .seconds(3)
      return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }
  }
}

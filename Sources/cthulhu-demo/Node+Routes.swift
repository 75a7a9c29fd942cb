import Foundation
import NIOHTTP1

extension Node {
  /// The HTTP API: `/health`, `/admin`, `/value` for people and tests,
  /// `/raft/vote`, `/raft/append` and `/raft/read` between nodes.
  func respond(to request: Request) async -> Response {
    switch (request.method, request.path) {
    case (.GET, "/health"):
      return Response(status: .ok, body: "ok\n")
    case (.GET, "/admin"):
      return .json(.ok, status)
    case (.GET, "/value"):
      switch await read() {
      case .value(nil): return Response(status: .notFound, body: "no value committed yet\n")
      case .value(let value?): return Response(status: .ok, body: value + "\n")
      case .refused(let leader, let reason): return .json(.serviceUnavailable, Refusal(leader: leader, error: reason))
      }
    case (.GET, "/raft/read"):
      switch await leaderRead() {
      case .value(let value): return .json(.ok, ReadAnswer(value: value))
      case .refused(let leader, let reason): return .json(.serviceUnavailable, Refusal(leader: leader, error: reason))
      }
    case (.POST, "/value"), (.PUT, "/value"):
      let text = String(decoding: request.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      switch await write(text) {
      case .committed(let index, let term):
        return .json(.ok, Written(value: text, index: index, term: term))
      case .refused(let leader, let reason):
        return .json(.serviceUnavailable, Refusal(leader: leader, error: reason))
      }
    case (.POST, "/raft/vote"):
      guard let vote = try? JSONDecoder().decode(VoteRequest.self, from: request.body) else { return .badRequest }
      return .json(.ok, self.vote(vote))
    case (.POST, "/raft/append"):
      guard let append = try? JSONDecoder().decode(AppendRequest.self, from: request.body) else { return .badRequest }
      return .json(.ok, self.append(append))
    case (_, "/health"), (_, "/admin"), (_, "/value"), (_, "/raft/vote"), (_, "/raft/append"), (_, "/raft/read"):
      return Response(status: .methodNotAllowed, body: "method not allowed\n")
    default:
      return Response(status: .notFound, body: "not found: \(request.path)\n")
    }
  }

  private struct Written: Encodable {
    var value: String
    var index: Int
    var term: Int
  }

  /// `leader` is always present, `null` when unknown, so clients can redirect.
  private struct Refusal: Encodable {
    var leader: String?
    var error: String
    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(leader, forKey: .leader)
      try container.encode(error, forKey: .error)
    }
    enum CodingKeys: String, CodingKey { case leader, error }
  }
}

extension Response {
  static let badRequest = Response(status: .badRequest, body: "bad request body\n")
}

import Foundation

/// The node's configuration, read from the JSON file cthulhu renders per instance:
///
///     {"self": "i001", "listen": "172.30.0.2:8080",
///      "peers": {"i001": "172.30.0.2:8080", "i002": "172.30.0.3:8080", "i003": "172.30.0.4:8080"},
///      "election_timeout_ms": [300, 600], "heartbeat_ms": 100, "state": "/opt/app/var/raft.json",
///      "stale_reads": false, "fsync": true}
///
/// `peers` names every member, this node included. `listen` defaults to this
/// node's own entry in `peers`; `election_timeout_ms` to [300, 600],
/// `heartbeat_ms` to 100; without `state` nothing survives a restart.
/// `stale_reads: true` is the deliberately unsafe mode: every node answers a
/// read from its own commit index, without asking the leader. `fsync: false`
/// is the other: the state file is saved without fsync, so a crash that
/// loses what was not synced takes acknowledged writes with it.
struct DemoConfig: Equatable, Sendable {
  var name: String
  var listen: Address
  var peers: [String: Address]
  var electionTimeoutMs: ClosedRange<Int>
  var heartbeatMs: Int
  var statePath: String?
  var staleReads = false
  /// Whether the state file is fsynced (with its folder) before any answer.
  var fsync = true

  /// A `host:port` pair.
  struct Address: Equatable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var description: String { "\(host):\(port)" }

    init?(_ text: String) {
      guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
        (0...65535).contains(port), colon != text.startIndex
      else { return nil }
      host = String(text[..<colon])
      self.port = port
    }
  }

  /// A configuration problem, printed as one line: `FILE: field "F": what is wrong`.
  struct Error: Swift.Error, CustomStringConvertible {
    var description: String
  }

  static func load(path: String, listen: String? = nil, staleReads: Bool? = nil, fsync: Bool? = nil) throws -> DemoConfig {
    func fail(_ field: String?, _ problem: String) -> Error {
      Error(description: field.map { "\(path): field \"\($0)\": \(problem)" } ?? "\(path): \(problem)")
    }
    guard let data = FileManager.default.contents(atPath: path) else { throw fail(nil, "cannot read the file") }
    guard let json = try? JSONSerialization.jsonObject(with: data), let object = json as? [String: Any] else {
      throw fail(nil, "not a JSON object")
    }
    guard let name = object["self"] as? String, !name.isEmpty else {
      throw fail("self", "expected this node's name, a non-empty string")
    }
    guard let rawPeers = object["peers"] as? [String: String], !rawPeers.isEmpty else {
      throw fail("peers", "expected an object of name to \"host:port\", this node included")
    }
    var peers: [String: Address] = [:]
    for (peer, text) in rawPeers {
      guard let address = Address(text) else { throw fail("peers", "\"\(peer)\": expected \"host:port\", got \"\(text)\"") }
      peers[peer] = address
    }
    guard let own = peers[name] else { throw fail("peers", "does not name this node, \"\(name)\"") }

    let listenText = listen ?? (object["listen"] as? String) ?? own.description
    guard let address = Address(listenText) else {
      throw fail("listen", "expected \"host:port\", got \"\(listenText)\"")
    }
    let timeout = object["election_timeout_ms"] as? [Int] ?? [300, 600]
    guard object["election_timeout_ms"] == nil || object["election_timeout_ms"] is [Int],
      timeout.count == 2, timeout[0] > 0, timeout[0] <= timeout[1]
    else { throw fail("election_timeout_ms", "expected [low, high] in milliseconds, 0 < low <= high") }
    let heartbeat = object["heartbeat_ms"] as? Int ?? 100
    guard object["heartbeat_ms"] == nil || object["heartbeat_ms"] is Int, heartbeat > 0, heartbeat < timeout[0] else {
      throw fail("heartbeat_ms", "expected a positive number of milliseconds below election_timeout_ms[0]")
    }
    let state = object["state"] as? String
    guard object["state"] == nil || state != nil else { throw fail("state", "expected a file path") }
    guard object["stale_reads"] == nil || object["stale_reads"] is Bool else {
      throw fail("stale_reads", "expected true or false")
    }
    guard object["fsync"] == nil || object["fsync"] is Bool else { throw fail("fsync", "expected true or false") }
    return DemoConfig(
      name: name, listen: address, peers: peers, electionTimeoutMs: timeout[0]...timeout[1],
      heartbeatMs: heartbeat, statePath: state,
      staleReads: staleReads ?? (object["stale_reads"] as? Bool ?? false),
      fsync: fsync ?? (object["fsync"] as? Bool ?? true))
  }
}

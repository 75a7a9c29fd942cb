import AsyncHTTPClient
import Foundation
import NIOCore

/// `cthulhu-demo --config PATH [--listen HOST:PORT] [--stale-reads] [--no-fsync]`: one node of a small
/// Raft-style cluster that elects a leader and replicates one value.
/// See docs/demo.md.
@main
enum CthulhuDemo {
  static let usage = """
    usage: cthulhu-demo --config PATH [--listen HOST:PORT] [--stale-reads] [--no-fsync]

    One node of a leader election with a replicated value (docs/demo.md).
    The config file is JSON: {"self": "i001", "peers": {"i001": "172.30.0.2:8080", ...},
    "listen": "172.30.0.2:8080", "election_timeout_ms": [300, 600], "heartbeat_ms": 100,
    "state": "/opt/app/var/raft.json", "stale_reads": false, "fsync": true}; only "self" and "peers"
    are required.
    --listen (or env CTHULHU_DEMO_LISTEN) overrides the config's listen address.
    --stale-reads (or env CTHULHU_DEMO_STALE_READS=1) is the deliberately unsafe mode:
    every node answers GET /value from its own state, without asking the leader.
    --no-fsync (or env CTHULHU_DEMO_FSYNC=0) is the other: the state file is saved
    without fsync, so a crash that loses unsynced writes loses acknowledged values.

    HTTP: GET /health, GET /admin, GET /value (linearizable: the leader confirms
    with a majority; a follower asks its leader), POST /value (leader only).
    """

  static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.contains("--help") || arguments.contains("-h") {
      print(usage)
      return
    }
    var configPath: String?
    var listen = ProcessInfo.processInfo.environment["CTHULHU_DEMO_LISTEN"]
    var staleReads: Bool?
    switch ProcessInfo.processInfo.environment["CTHULHU_DEMO_STALE_READS"] {
    case nil, "": break
    case "1", "true": staleReads = true
    case "0", "false": staleReads = false
    case let other?: fail("CTHULHU_DEMO_STALE_READS must be 1, true, 0 or false (got '\(other)')")
    }
    var fsync: Bool?
    switch ProcessInfo.processInfo.environment["CTHULHU_DEMO_FSYNC"] {
    case nil, "": break
    case "1", "true": fsync = true
    case "0", "false": fsync = false
    case let other?: fail("CTHULHU_DEMO_FSYNC must be 1, true, 0 or false (got '\(other)')")
    }
    var rest = arguments[...]
    while let flag = rest.popFirst() {
      switch flag {
      case "--config": configPath = rest.popFirst()
      case "--listen": listen = rest.popFirst()
      case "--stale-reads": staleReads = true
      case "--no-fsync": fsync = false
      default: fail("unknown argument '\(flag)'; run cthulhu-demo --help")
      }
    }
    guard let configPath else { fail("please give the config file with --config PATH") }

    let config: DemoConfig
    do { config = try DemoConfig.load(path: configPath, listen: listen, staleReads: staleReads, fsync: fsync) } catch { fail("\(error)") }

    exitOnSignals()
    var timeouts = HTTPClient.Configuration.Timeout(connect: Node.peerTimeout, read: Node.peerTimeout)
    timeouts.write = Node.peerTimeout
    let client = HTTPClient(
      eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(timeout: timeouts))
    let node = Node(config: config, client: client)
    if config.staleReads { say("\(config.name): stale reads: GET /value answers from this node's own state") }
    if !config.fsync { say("\(config.name): no fsync: the state file is saved without fsync") }
    do {
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask {
          try await HTTPServer.serve(host: config.listen.host, port: config.listen.port) { request in
            await node.respond(to: request)
          }
        }
        group.addTask { await node.run() }
      }
    } catch {
      fail("\(config.name): cannot serve on \(config.listen): \(error)", status: 1)
    }
  }

  /// SIGTERM and SIGINT end the process at once with status 0: all its state
  /// that matters is saved before every answer, so there is nothing to flush.
  static func exitOnSignals() {
    for signal in [SIGTERM, SIGINT] {
      Foundation.signal(signal, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
      source.setEventHandler { exit(0) }
      source.resume()
      sources.append(source)
    }
  }

  nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []

  static func fail(_ message: String, status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data("cthulhu-demo: \(message)\n".utf8))
    exit(status)
  }
}

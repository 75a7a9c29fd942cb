import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import XCTest

/// Three real `cthulhu-demo` processes on 127.0.0.2, .3 and .4 (Linux routes
/// all of 127/8 to lo), talking HTTP to each other.
final class DemoClusterTests: XCTestCase {
  var dir = ""
  var processes: [String: Process] = [:]
  var addresses: [String: String] = [:]
  var client: HTTPClient!

  /// The built `cthulhu-demo`, beside the test bundle (found as EndToEndTests' Harness finds `cthulhu`:
  /// on macOS the .xctest bundle's folder, on Linux the main bundle's).
  static var binary: String {
    let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }
    let products = bundle?.bundleURL.deletingLastPathComponent() ?? Bundle.main.bundleURL
    return products.appendingPathComponent("cthulhu-demo").path
  }

  override func setUp() async throws {
    dir = NSTemporaryDirectory() + "cthulhu-demo-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    client = HTTPClient(eventLoopGroup: NIOSingletons.posixEventLoopGroup)
  }

  /// Runs even when an assertion failed or threw: no process outlives its test.
  override func tearDown() async throws {
    for process in processes.values where process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    if testRun?.hasSucceeded == true { try? FileManager.default.removeItem(atPath: dir) }
    try await client?.shutdown()
    client = nil
  }

  func testElectsOneLeaderReplicatesAndSurvivesTheLeadersDeath() async throws {
    try await startCluster()
    let first = try await agreedLeader(among: ["i001", "i002", "i003"])

    let write = try await post("/value", to: first.leader, body: "v-\(UUID().uuidString.prefix(6))")
    XCTAssertEqual(write.status, 200, write.body)
    let value = try XCTUnwrap(json(write.body)["value"] as? String)
    for name in addresses.keys.sorted() {
      let read = try await poll("\(name) serves the value") { [self] in
        let r = try await get("/value", from: name)
        return r.body == value + "\n" ? r : nil
      }
      XCTAssertEqual(read.status, 200)
    }
    let follower = try XCTUnwrap(addresses.keys.sorted().first { $0 != first.leader })
    let refused = try await post("/value", to: follower, body: "nope")
    XCTAssertEqual(refused.status, 503)
    XCTAssertEqual(json(refused.body)["leader"] as? String, first.leader)
    XCTAssertTrue(log(of: first.leader).contains("\(first.leader) term \(first.term): leader"), log(of: first.leader))

    kill(processes[first.leader]!.processIdentifier, SIGKILL)
    let survivors = addresses.keys.filter { $0 != first.leader }.sorted()
    let second = try await agreedLeader(among: survivors)
    XCTAssertNotEqual(second.leader, first.leader)
    XCTAssertGreaterThan(second.term, first.term)
    let kept = try await get("/value", from: second.leader)
    XCTAssertEqual(kept.body, value + "\n", "the committed value survives the leader")
    let again = try await post("/value", to: second.leader, body: "two of three")
    XCTAssertEqual(again.status, 200, "two of three nodes are a majority: \(again.body)")

    let admin = json(try await get("/admin", from: second.leader).body)
    XCTAssertEqual(admin["value"] as? String, "two of three")
    let others = survivors.filter { $0 != second.leader }
    _ = try await poll("\(second.leader) sees only \(others) within the last second") { [self] in
      json(try await get("/admin", from: second.leader).body)["peersSeen"] as? [String] == others ? true : nil
    }

    // Started again with an empty log, the old leader is behind, and catches up.
    try start(first.leader)
    let caughtUp = try await poll("\(first.leader) states that it caught up") { [self] in
      assertions().first {
        $0["id"] as? String == "a follower caught up" && $0["hit"] == nil && ($0["details"] as? [String: Any])?["node"] as? String == first.leader
      }
    }
    XCTAssertEqual(caughtUp["condition"] as? Bool, true)
    XCTAssertGreaterThanOrEqual((caughtUp["details"] as? [String: Any])?["index"] as? Int ?? 0, 3, "the no-ops of two terms and two writes")
    let stated = assertions()
    XCTAssertFalse(stated.contains { $0.isEmpty }, "every line whole, though three processes append to one file")
    XCTAssertEqual(stated.filter { $0["hit"] as? Bool == false }.count, 12, "three properties declared by each of four starts")
    let elected = stated.filter { $0["id"] as? String == "a leader was elected" && $0["hit"] == nil }
    XCTAssertEqual(Set(elected.compactMap { ($0["details"] as? [String: Any])?["node"] as? String }), [first.leader, second.leader])
    let oneLeader = stated.filter { $0["id"] as? String == "at most one leader per term" && $0["hit"] == nil }
    XCTAssertGreaterThanOrEqual(oneLeader.count, 4, "each node learns the leader of both terms")
    XCTAssertTrue(oneLeader.allSatisfy { $0["assert"] as? String == "always" && $0["condition"] as? Bool == true })
  }

  func testSigtermExitsZeroQuickly() async throws {
    try await startCluster()
    _ = try await get("/health", from: "i001")
    let process = processes["i001"]!
    let started = ContinuousClock.now
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationReason, .exit)
    XCTAssertEqual(process.terminationStatus, 0)
    XCTAssertLessThan(ContinuousClock.now - started, .seconds(2))
  }

  func testBadConfigIsOneLineNamingTheFileAndField() throws {
    let path = dir + "/bad.json"
    try #"{"self": "i001", "peers": {"i001": "127.0.0.2:notaport"}}"#.write(toFile: path, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.binary)
    process.arguments = ["--config", path]
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 2)
    XCTAssertEqual(
      output, "cthulhu-demo: \(path): field \"peers\": \"i001\": expected \"host:port\", got \"127.0.0.2:notaport\"\n")
  }

  // MARK: Helpers

  func startCluster() async throws {
    #if !os(Linux)
    throw XCTSkip("needs 127.0.0.2-4, which only Linux routes to lo without setup")
    #endif
    for (i, name) in ["i001", "i002", "i003"].enumerated() {
      let host = "127.0.0.\(i + 2)"
      addresses[name] = "\(host):\(try await freePort(on: host))"
    }
    let peers = addresses.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
    for name in addresses.keys.sorted() {
      let config = "{\"self\": \"\(name)\", \"peers\": {\(peers)}, \"election_timeout_ms\": [300, 600], \"heartbeat_ms\": 50}"
      try config.write(toFile: "\(dir)/\(name).json", atomically: true, encoding: .utf8)
      _ = FileManager.default.createFile(atPath: "\(dir)/\(name).log", contents: nil)
      try start(name)
    }
    for name in addresses.keys {
      _ = try await poll("\(name) answers /health") { [self] in try? await get("/health", from: name) }
    }
  }

  /// Starts (or starts again) the node `name`, its output appended to its log,
  /// its properties to the file all three share (as concurrent appenders).
  func start(_ name: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.binary)
    process.arguments = ["--config", "\(dir)/\(name).json"]
    process.environment = ProcessInfo.processInfo.environment.merging(["CTHULHU_ASSERTIONS": assertionsPath]) { _, new in new }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(dir)/\(name).log"))
    out.seekToEndOfFile()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    processes[name] = process
  }

  var assertionsPath: String { dir + "/assertions.jsonl" }

  /// The lines the nodes stated, each a JSON object.
  func assertions() -> [[String: Any]] {
    let text = (try? String(contentsOfFile: assertionsPath, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").map { json(String($0)) }
  }

  /// Waits until exactly one of `names` is leader and all of them name it.
  func agreedLeader(among names: [String]) async throws -> (leader: String, term: Int) {
    try await poll("one leader among \(names) that all agree on") { [self] in
      var views: [[String: Any]] = []
      for name in names {
        guard let r = try? await get("/admin", from: name) else { return nil }
        views.append(json(r.body))
      }
      let leaders = views.filter { $0["role"] as? String == "leader" }
      guard leaders.count == 1, let leader = leaders[0]["name"] as? String, let term = leaders[0]["term"] as? Int,
        views.allSatisfy({ $0["leader"] as? String == leader && $0["term"] as? Int == term })
      else { return nil }
      return (leader, term)
    }
  }

  /// Retries `attempt` every 50 ms until it returns a value; fails after `timeout`.
  func poll<T>(_ what: String, timeout: Duration = .seconds(10), _ attempt: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
      if let value = try await attempt() { return value }
      try await Task.sleep(for: .milliseconds(50))
    }
    let logs = addresses.keys.sorted().map { "--- \($0)\n" + log(of: $0) }.joined(separator: "\n")
    XCTFail("timed out after \(timeout) waiting for \(what)\n\(logs)")
    throw CancellationError()
  }

  func get(_ path: String, from name: String) async throws -> (status: UInt, body: String) {
    try await send(HTTPClientRequest(url: "http://\(addresses[name]!)\(path)"))
  }

  func post(_ path: String, to name: String, body: String) async throws -> (status: UInt, body: String) {
    var request = HTTPClientRequest(url: "http://\(addresses[name]!)\(path)")
    request.method = .POST
    request.body = .bytes(ByteBuffer(string: body))
    return try await send(request)
  }

  func send(_ request: HTTPClientRequest) async throws -> (status: UInt, body: String) {
    let response = try await client.execute(request, timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (response.status.code, String(buffer: body))
  }

  func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
  }

  func log(of name: String) -> String {
    (try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? ""
  }

  /// A port free on `host` right now: bind port 0, read it back, close.
  func freePort(on host: String) async throws -> Int {
    let channel = try await ServerBootstrap(group: NIOSingletons.posixEventLoopGroup).bind(host: host, port: 0).get()
    let port = try XCTUnwrap(channel.localAddress?.port)
    try await channel.close()
    return port
  }
}

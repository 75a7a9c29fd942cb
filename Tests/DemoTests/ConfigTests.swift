import Foundation
import XCTest

@testable import cthulhu_demo

final class ConfigTests: XCTestCase {
  var path = ""

  override func setUp() {
    path = NSTemporaryDirectory() + "cthulhu-demo-config-\(UUID().uuidString.prefix(8)).json"
  }

  override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

  func load(_ text: String, listen: String? = nil) throws -> DemoConfig {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try DemoConfig.load(path: path, listen: listen)
  }

  /// The one-line message a bad config produces.
  func problem(_ text: String) -> String {
    do {
      _ = try load(text)
      return "no error"
    } catch {
      return "\(error)"
    }
  }

  let peers = #""peers": {"i001": "172.30.0.2:8080", "i002": "172.30.0.3:8080", "i003": "172.30.0.4:8080"}"#

  func testMinimalConfigTakesDefaults() throws {
    let config = try load(#"{"self": "i002", \#(peers)}"#)
    XCTAssertEqual(config.name, "i002")
    XCTAssertEqual(config.listen.description, "172.30.0.3:8080", "listen defaults to this node's own peer entry")
    XCTAssertEqual(config.peers.keys.sorted(), ["i001", "i002", "i003"])
    XCTAssertEqual(config.electionTimeoutMs, 300...600)
    XCTAssertEqual(config.heartbeatMs, 100)
    XCTAssertNil(config.statePath)
    XCTAssertFalse(config.staleReads, "reads are linearizable unless asked")
  }

  func testStaleReadsFromTheFileOrTheCommandLine() throws {
    XCTAssertTrue(try load(#"{"self": "i002", \#(peers), "stale_reads": true}"#).staleReads)
    try #"{"self": "i002", \#(peers), "stale_reads": true}"#.write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertFalse(try DemoConfig.load(path: path, staleReads: false).staleReads, "the flag or environment wins")
    try #"{"self": "i002", \#(peers)}"#.write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertTrue(try DemoConfig.load(path: path, staleReads: true).staleReads)
  }

  func testEveryFieldAndTheListenOverride() throws {
    let text = #"""
      {"self": "i001", "listen": "0.0.0.0:9000", \#(peers),
       "election_timeout_ms": [150, 300], "heartbeat_ms": 30, "state": "/opt/app/var/raft.json"}
      """#
    let config = try load(text)
    XCTAssertEqual(config.listen.description, "0.0.0.0:9000")
    XCTAssertEqual(config.electionTimeoutMs, 150...300)
    XCTAssertEqual(config.heartbeatMs, 30)
    XCTAssertEqual(config.statePath, "/opt/app/var/raft.json")
    XCTAssertEqual(try load(text, listen: "127.0.0.9:1234").listen.description, "127.0.0.9:1234")
  }

  func testEachProblemNamesTheFileAndTheField() {
    XCTAssertEqual(problem("[1, 2]"), "\(path): not a JSON object")
    XCTAssertEqual(problem(#"{\#(peers)}"#), "\(path): field \"self\": expected this node's name, a non-empty string")
    XCTAssertEqual(
      problem(#"{"self": "i009", \#(peers)}"#), "\(path): field \"peers\": does not name this node, \"i009\"")
    XCTAssertEqual(
      problem(#"{"self": "i001", "peers": ["172.30.0.2:8080"]}"#),
      "\(path): field \"peers\": expected an object of name to \"host:port\", this node included")
    XCTAssertEqual(
      problem(#"{"self": "i001", "listen": "8080", \#(peers)}"#),
      "\(path): field \"listen\": expected \"host:port\", got \"8080\"")
    XCTAssertTrue(
      problem(#"{"self": "i001", \#(peers), "election_timeout_ms": [600, 300]}"#)
        .hasPrefix("\(path): field \"election_timeout_ms\": "))
    XCTAssertTrue(
      problem(#"{"self": "i001", \#(peers), "heartbeat_ms": 500}"#).hasPrefix("\(path): field \"heartbeat_ms\": "))
    XCTAssertTrue(problem(#"{"self": "i001", \#(peers), "state": 3}"#).hasPrefix("\(path): field \"state\": "))
    XCTAssertTrue(
      problem(#"{"self": "i001", \#(peers), "stale_reads": "yes"}"#).hasPrefix("\(path): field \"stale_reads\": "))
  }

  func testAnUnreadableFileIsNamed() {
    XCTAssertThrowsError(try DemoConfig.load(path: "/nonexistent/config.json")) { error in
      XCTAssertEqual("\(error)", "/nonexistent/config.json: cannot read the file")
    }
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The executor's one recovery: a container the engine will not start, for
/// any cause but the engine not answering, is removed and made anew, once.
final class StartRecoveryTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-start-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func manifest(count: Int = 1) -> Manifest {
    let g = Group(name: "node", source: .image("app:1"), count: count, command: ["/bin/sh", "-c", "sleep 1000"])
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.5.0/24")), groups: [g])
  }

  func apply(_ o: FixtureController, count: Int = 1) async throws -> FixtureController.ApplyResult {
    try await o.apply(try await o.plan(manifest(count: count)))
  }

  func assertConverged(_ o: FixtureController, count: Int = 1, file: StaticString = #filePath, line: UInt = #line) async throws {
    let again = try await o.plan(manifest(count: count))
    XCTAssertTrue(again.plan.steps.isEmpty, PlanRenderer.text(again.plan), file: file, line: line)
  }

  static let unforeseen = DriverError(.engine(status: 500), "start c1: the engine answered 500: something nobody has seen yet")

  func testAnUnforeseenStartFailureOfANewContainerIsRemadeOnce() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    driver.refuseStarts(1, with: Self.unforeseen)
    let r = try await apply(o)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(
      driver.calls, ["network-create cthulhu-kv 172.28.5.0/24", "create kv-i001", "start-refused kv-i001", "remove kv-i001", "create kv-i001", "start kv-i001"])
    let live = try await driver.containers(fixture: "kv")
    XCTAssertEqual(live.map(\.state), [.running])
    XCTAssertEqual(r.state.instances.first?.containerID, live.first?.id, "the state records the new container")
    let remakes = EventLog(root: dir + "/fixture").read().filter { $0.action == "remake" }
    XCTAssertEqual(remakes.map(\.targets), [["instance:i001"]])
    XCTAssertEqual(remakes.first?.outcome, "ok: \(Self.unforeseen.message)")
    try await assertConverged(o)
  }

  func testAStoppedContainerTheRestartedEngineWillNotStartIsRemade() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    _ = try await apply(o, count: 2)
    driver.setState(instanceContainer: "kv-i002", .exited)
    driver.resetCalls()
    driver.refuseStarts(1, with: DriverError(.leftoverRuntimeState, "start c2: task c2: already exists"))
    let r = try await apply(o, count: 2)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(driver.calls, ["start-refused kv-i002", "remove kv-i002", "create kv-i002", "start kv-i002"])
    try await assertConverged(o, count: 2)
  }

  func testAContainerAKilledApplyMadeButDidNotRecordIsRecordedWhenStarted() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    _ = try await apply(o, count: 2)
    // As a killed apply leaves it: the engine made i002's container, the state never heard of it.
    var state = try XCTUnwrap(try FixtureState.load(root: dir + "/fixture"))
    state.removeInstance("i002")
    try state.save()
    driver.setState(instanceContainer: "kv-i002", .created)
    let r = try await apply(o, count: 2)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    let live = try await driver.containers(fixture: "kv")
    XCTAssertEqual(r.state.instances.map(\.name), ["i001", "i002"])
    XCTAssertEqual(r.state.instance(named: "i002")?.containerID, live.first { $0.name == "kv-i002" }?.id)
    let rows = try await o.status(root: dir + "/fixture")
    XCTAssertEqual(rows.map(\.state), ["running", "running"])
    try await assertConverged(o, count: 2)
  }

  func testASecondRefusalIsReported() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    driver.refuseStarts(2, with: Self.unforeseen)
    let r = try await apply(o)
    XCTAssertEqual(r.failures.map(\.target), ["instance:i001"])
    XCTAssertEqual((r.failures.first?.error as? DriverError)?.code, .engine(status: 500))
    XCTAssertEqual(driver.calls.filter { $0.hasPrefix("create ") }.count, 2, "remade once, not again: \(driver.calls)")
    // Nothing is stuck: once the engine starts containers again, the next apply converges.
    _ = try await apply(o)
    let live = try await driver.containers(fixture: "kv")
    XCTAssertEqual(live.map(\.state), [.running])
    try await assertConverged(o)
  }

  func testAnEngineThatDoesNotAnswerIsNotMetByRemaking() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    driver.refuseStarts(1, with: .engineGone("lost the connection to the Docker engine at unix:///x (the engine closed the connection)"))
    let r = try await apply(o)
    XCTAssertEqual((r.failures.first?.error as? DriverError)?.code, .engineGone)
    XCTAssertFalse(driver.calls.contains("remove kv-i001"), "\(driver.calls)")
  }
}

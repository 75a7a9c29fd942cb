import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// What apply learns only by trying, met by a fresh look and a new plan: a
/// container the engine will not start, for any cause but the engine not
/// answering, is replaced, once; a name taken after the plan looked (a
/// killed apply's create finishing in the engine) is adopted or replaced.
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
    let o = FixtureController(driver: driver, executable: .neverRun)
    driver.refuseStarts(1, with: Self.unforeseen)
    let r = try await apply(o)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(
      driver.calls,
      ["network-create cthulhu-kv 172.28.5.0/24", "create kv-i001", "start-refused kv-i001", "remove kv-i001", "create kv-i001", "start kv-i001"])
    let live = try await driver.containers(fixture: "kv")
    XCTAssertEqual(live.map(\.state), [.running])
    XCTAssertEqual(r.state.instances.first?.containerID, live.first?.id, "the state records the new container")
    let remakes = EventLog(root: dir + "/fixture").read().filter { $0.action == "remake" }
    XCTAssertEqual(remakes.map(\.targets), [["instance:i001"]])
    XCTAssertEqual(remakes.first?.outcome, "ok: \(Self.unforeseen.message)")
    try await assertConverged(o)
  }

  /// A dockerd killed between allocating an instance's address and
  /// recording its endpoint keeps the address allocated, also after it
  /// restarts, and refuses every start of a container with it: the network
  /// is made anew (same subnet) and every instance with it, once.
  func testAnAddressTheEngineHoldsForNoContainerGetsANewNetwork() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(o, count: 2)
    driver.setState(instanceContainer: "kv-i002", .exited)
    driver.resetCalls()
    driver.refuseStarts(1, with: DriverError(.addressInUse, "start c2: the engine answered 403: Address already in use"))
    let r = try await apply(o, count: 2)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(r.replans.count, 1)
    let rebuild = try XCTUnwrap(r.replans.first?.steps.first)
    XCTAssertEqual(rebuild.target, .network("cthulhu-kv"))
    XCTAssertEqual(rebuild.action, .replace)
    XCTAssertEqual(rebuild.recovery, .addressHeld)
    let calls = driver.calls
    XCTAssertEqual(calls.first, "start-refused kv-i002")
    XCTAssertEqual(Set(calls.dropFirst().prefix(2)), ["remove kv-i001", "remove kv-i002"])
    XCTAssertEqual(Array(calls.dropFirst(3).prefix(2)), ["network-remove cthulhu-kv", "network-create cthulhu-kv 172.28.5.0/24"])
    XCTAssertEqual(Set(calls.dropFirst(5)), ["create kv-i001", "start kv-i001", "create kv-i002", "start kv-i002"], "(in parallel)")
    try await assertConverged(o, count: 2)
  }

  /// The same refusal after the network was made anew is reported.
  func testAnAddressStillHeldOnTheNewNetworkIsReported() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    driver.refuseStarts(10, with: DriverError(.addressInUse, "start c1: the engine answered 403: Address already in use"))
    let r = try await apply(o)
    XCTAssertEqual(r.failures.map(\.target), ["instance:i001"])
    XCTAssertEqual(r.replans.count, 1, "one new network, then the refusal is reported")
  }

  func testAStoppedContainerTheRestartedEngineWillNotStartIsRemade() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
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
    let o = FixtureController(driver: driver, executable: .neverRun)
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
    let o = FixtureController(driver: driver, executable: .neverRun)
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

  func testEveryContainerTheEngineWillNotStartIsRemadeInOneApply() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(o, count: 4)
    for n in 1...4 { driver.setState(instanceContainer: "kv-i00\(n)", .exited) }
    driver.resetCalls()
    driver.refuseStarts(4, with: DriverError(.leftoverRuntimeState, "start: task: already exists"))
    let r = try await apply(o, count: 4)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(r.replans.count, 1, "one fresh look plans every repair: \(r.replans)")
    XCTAssertEqual(r.replans.first?.steps.map(\.recovery), Array(repeating: .startRefused, count: 4))
    XCTAssertEqual(driver.calls.filter { $0.hasPrefix("start-refused ") }.count, 4, "\(driver.calls)")
    XCTAssertEqual(driver.calls.filter { $0.hasPrefix("create ") }.count, 4, "\(driver.calls)")
    let remakes = EventLog(root: dir + "/fixture").read().filter { $0.action == "remake" }
    XCTAssertEqual(Set(remakes.flatMap(\.targets)), ["instance:i001", "instance:i002", "instance:i003", "instance:i004"])
    try await assertConverged(o, count: 4)
  }

  /// A killed apply's create finished in the engine after this apply looked:
  /// its create meets the name taken, and a fresh look adopts the container
  /// (it has this spec) or replaces it (another spec).
  func testANameTakenAfterThePlanLookedIsAdoptedOrReplaced() async throws {
    for sameSpec in [true, false] {
      try? FileManager.default.removeItem(atPath: dir + "/fixture")
      let driver = MemoryDriver(images: ["app:1"])
      let o = FixtureController(driver: driver, executable: .neverRun)
      _ = try await apply(o, count: 1)
      let planned = try await o.plan(manifest(count: 2))
      var spec = planned.desired.instances[1].container
      spec.labels[Labels.specHash] = sameSpec ? planned.desired.instances[1].specHash : "another"
      let late = try await driver.create(spec)
      driver.resetCalls()
      let r = try await o.apply(planned)
      XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
      XCTAssertEqual(
        r.replans.map { $0.steps.map { "\($0.target) \($0.action.rawValue)" } }, [["instance:i002 \(sameSpec ? "adopt" : "replace")"]])
      XCTAssertEqual(
        driver.calls,
        sameSpec ? ["start kv-i002"] : ["remove kv-i002", "create kv-i002", "start kv-i002"],
        "(the in-memory engine lists no create it refused)")
      let live = try await driver.containers(fixture: "kv")
      XCTAssertEqual(live.map(\.state), [.running, .running])
      XCTAssertEqual(r.state.instance(named: "i002")?.containerID == late, sameSpec, "adopted: the late container is recorded")
      try await assertConverged(o, count: 2)
    }
  }

  func testANetworkMadeAfterThePlanLookedIsAdopted() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    let planned = try await o.plan(manifest())
    let late = try await driver.createNetwork(planned.desired.network)
    let r = try await o.apply(planned)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(
      r.replans.map { $0.steps.map { "\($0.target) \($0.action.rawValue)" } }, [["network:cthulhu-kv adopt", "instance:i001 create"]])
    XCTAssertEqual(r.state.networkID, late)
    try await assertConverged(o)
  }

  func testANameHeldByNoContainerOfThisFixtureIsReportedAfterTheEngineHadTimeToListIt() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    let planned = try await o.plan(manifest())
    // A container of another fixture holds the name.
    _ = try await driver.create(
      ContainerSpec(name: "kv-i001", image: "app:1", hostname: "x", labels: [Labels.fixture: "other"], network: "n", ip: IPv4Address("10.0.0.2")!))
    let clock = ContinuousClock()
    let t0 = clock.now
    let r = try await o.apply(planned)
    XCTAssertEqual(r.failures.map(\.target), ["instance:i001"])
    XCTAssertEqual((r.failures.first?.error as? DriverError)?.code, .nameInUse)
    XCTAssertTrue(r.replans.isEmpty, "a fresh look that plans the same create again is not tried")
    XCTAssertGreaterThanOrEqual(clock.now - t0, ApplyRetry.settle)
  }

  func testAnEngineThatDoesNotAnswerIsNotMetByRemaking() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    driver.refuseStarts(1, with: .engineGone("lost the connection to the Docker engine at unix:///x (the engine closed the connection)"))
    let r = try await apply(o)
    XCTAssertEqual((r.failures.first?.error as? DriverError)?.code, .engineGone)
    XCTAssertFalse(driver.calls.contains("remove kv-i001"), "\(driver.calls)")
  }
}

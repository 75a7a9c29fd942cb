import Foundation
import Manifest
import Synchronization
import XCTest

@testable import Orchestrator

/// One observation per apply: the plan `cthulhu apply` shows is the one that
/// runs when the state is unchanged under the lock, so the engine is listed
/// and asked for images once (plus the one listing that checks what was
/// started), and the state is read once.
final class ObserveOnceTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-observe-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func manifest(count: Int) -> Manifest {
    let g = Group(name: "node", source: .image("app:1"), count: count, command: ["/bin/sh", "-c", "sleep 1000"])
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.5.0/24")), groups: [g])
  }

  func testAnApplyObservesTheEngineOnce() async throws {
    let driver = CountingDriver(MemoryDriver(images: ["app:1"]))
    let o = FixtureController(driver: driver, executable: .neverRun)
    var r = try await o.apply(try await o.plan(manifest(count: 3)))
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(driver.counts, ["containers": 2, "networks": 1, "imageID": 1], "plan: one of each; after the steps: one listing")
    // A change to a fixture that exists: the same.
    driver.reset()
    r = try await o.apply(try await o.plan(manifest(count: 4)))
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(driver.counts, ["containers": 2, "networks": 1, "imageID": 1])
  }

  func testAStateThatMovedUnderThePlanIsObservedAgain() async throws {
    let driver = CountingDriver(MemoryDriver(images: ["app:1"]))
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 2)))
    let planned = try await o.plan(manifest(count: 3))
    _ = try await o.apply(try await o.plan(manifest(count: 1)))
    driver.reset()
    var options = ApplyOptions()
    options.replanWhenStale = true
    let r = try await o.apply(planned, options: options)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(driver.counts["networks"], 1, "the plan is made again under the lock")
    XCTAssertEqual(r.state.instances.map(\.name), ["i001", "i002", "i003"])
  }
}

/// A driver that counts the calls an observation makes, and passes every call on.
final class CountingDriver: Driver {
  let inner: MemoryDriver
  private let tally = Mutex([String: Int]())
  init(_ inner: MemoryDriver) { self.inner = inner }

  var counts: [String: Int] { tally.withLock { $0 } }
  func reset() { tally.withLock { $0 = [:] } }
  private func count(_ what: String) { tally.withLock { $0[what, default: 0] += 1 } }

  func containers(fixture: String) async throws -> [ObservedContainer] {
    count("containers")
    return try await inner.containers(fixture: fixture)
  }
  func containers(root: String) async throws -> [ObservedContainer] { try await inner.containers(root: root) }
  func networks() async throws -> [ObservedNetwork] {
    count("networks")
    return try await inner.networks()
  }
  func imageID(_ reference: String) async throws -> String? {
    count("imageID")
    return try await inner.imageID(reference)
  }
  func pull(_ reference: String) async throws -> String { try await inner.pull(reference) }
  func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String {
    try await inner.build(context: context, dockerfile: dockerfile, tag: tag, labels: labels)
  }
  func createNetwork(_ spec: NetworkSpec) async throws -> String { try await inner.createNetwork(spec) }
  func removeNetwork(id: String) async throws { try await inner.removeNetwork(id: id) }
  func create(_ spec: ContainerSpec) async throws -> String { try await inner.create(spec) }
  func start(id: String) async throws { try await inner.start(id: id) }
  func stop(id: String, timeout: Int?) async throws { try await inner.stop(id: id, timeout: timeout) }
  func restart(id: String, timeout: Int?) async throws { try await inner.restart(id: id, timeout: timeout) }
  func kill(id: String, signal: String) async throws { try await inner.kill(id: id, signal: signal) }
  func pause(id: String) async throws { try await inner.pause(id: id) }
  func unpause(id: String) async throws { try await inner.unpause(id: id) }
  func remove(id: String, force: Bool) async throws { try await inner.remove(id: id, force: force) }
  func inspect(id: String) async throws -> ContainerDetails { try await inner.inspect(id: id) }
  func exec(id: String, command: [String]) async throws -> ExecResult { try await inner.exec(id: id, command: command) }
  func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    inner.logs(id: id, follow: follow, since: since, timestamps: timestamps)
  }
  func networkNamespace(id: String) async throws -> String? { try await inner.networkNamespace(id: id) }
}

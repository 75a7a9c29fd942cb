import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// The registry's name index (a create asks it instead of decoding every
/// record) and its id look-up. Nothing here starts a process.
final class RegistryIndexTests: XCTestCase {
  var fixture = ""
  var tmp = ""
  var env: [String: String] = [:]
  var driver: ProcessDriver!

  override func setUp() async throws {
    fixture = Host.uniqueName("rix")
    tmp = try Host.tempDir(fixture)
    env = ["CTHULHU_PROCESS_REGISTRY": tmp + "/registry", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    driver = ProcessDriver(environment: env)
  }

  override func tearDown() async throws {
    if let driver {
      for c in (try? await driver.containers(fixture: fixture)) ?? [] { try? await driver.remove(id: c.id, force: true) }
      for n in (try? await driver.networks()) ?? [] where n.labels[Labels.fixture] == fixture { try? await driver.removeNetwork(id: n.id) }
    }
    try? FileManager.default.removeItem(atPath: tmp)
  }

  var folder: String { driver.registry.fixtureFolder(fixture) }

  func network() async throws -> NetworkSpec {
    let subnet = IPv4Network("127.79.\(Int.random(in: 1...250)).0/24")!
    let net = NetworkSpec(
      name: Naming.network(fixture), subnet: subnet, gateway: subnet.gateway,
      labels: [Labels.fixture: fixture, Labels.root: tmp + "/fixture", Labels.networkMode: "loopback"])
    _ = try await driver.createNetwork(net)
    return net
  }

  func spec(_ instance: String, on net: NetworkSpec, host n: Int) -> ContainerSpec {
    ContainerSpec(
      name: Naming.container(fixture, instance), image: "", imageID: "process", command: ["/bin/true"], env: [],
      hostname: instance, labels: [Labels.fixture: fixture, Labels.root: tmp + "/fixture", Labels.instance: instance],
      binds: [], network: net.name, ip: net.subnet.host(n))
  }

  /// The create's id, or the driver's error.
  func create(_ spec: ContainerSpec, by d: ProcessDriver? = nil) async throws -> Result<String, DriverError> {
    do { return .success(try await (d ?? driver).create(spec)) } catch let e as DriverError { return .failure(e) }
  }

  func testANameIsTakenUntilItsRecordIsRemoved() async throws {
    let net = try await network()
    let a = spec("i001", on: net, host: 0)
    let id = try await driver.create(a)
    guard case .failure(let e) = try await create(a) else { return XCTFail("a name in use is refused") }
    XCTAssertEqual(e.code, .nameInUse, "a create whose name is taken")
    try await driver.remove(id: id, force: true)
    let again = try await driver.create(a)
    XCTAssertNotEqual(again, id)
    let listed = try await driver.containers(fixture: fixture).map(\.id)
    XCTAssertEqual(listed, [again])
  }

  func testAClaimWhoseRecordIsGoneIsFree() async throws {
    let net = try await network()
    let a = spec("i001", on: net, host: 0)
    let id = try await driver.create(a)
    // A cthulhu killed between removing the record and its name.
    XCTAssertEqual(unlink(folder + "/\(id).json"), 0)
    _ = try await driver.create(a)
    let listed = try await driver.containers(fixture: fixture)
    XCTAssertEqual(listed.count, 1)
  }

  func testAFolderWithoutAnIndexGetsOneBuiltFromItsRecords() async throws {
    let net = try await network()
    let ids = [try await driver.create(spec("i001", on: net, host: 0)), try await driver.create(spec("i002", on: net, host: 1))]
    // As an earlier cthulhu left it.
    try FileManager.default.removeItem(atPath: folder + "/names")
    let fresh = ProcessDriver(environment: env)
    guard case .failure(let e) = try await create(spec("i002", on: net, host: 1), by: fresh) else {
      return XCTFail("the index built from the records knows i002")
    }
    XCTAssertEqual(e.code, .nameInUse, "a create whose name is taken")
    let links = try FileManager.default.contentsOfDirectory(atPath: folder + "/names")
    XCTAssertEqual(links.count, 2)
    XCTAssertEqual(Set(links.map { try? FileManager.default.destinationOfSymbolicLink(atPath: folder + "/names/" + $0) }), Set(ids))
    _ = try await fresh.create(spec("i003", on: net, host: 2))
  }

  func testAnotherProcessFindsAnInstanceByID() async throws {
    let net = try await network()
    let id = try await driver.create(spec("i001", on: net, host: 0))
    let other = ProcessDriver(environment: env)
    let seen = try await other.inspect(id: id)
    XCTAssertEqual(seen.state, .created)
    try await other.remove(id: id, force: true)
    do {
      _ = try await driver.inspect(id: id)
      XCTFail("removed by the other")
    } catch let e as DriverError { XCTAssertEqual(e.code, .notFound) }
  }

  /// A record's temporary file left by a cthulhu killed mid-write does not
  /// keep the fixture's folder once the fixture is forgotten; one whose
  /// writer still runs does.
  func testForgettingAFixtureRemovesTheTemporaryFilesOfKilledWriters() async throws {
    let net = try await network()
    let id = try await driver.create(spec("i001", on: net, host: 0))
    let gone = Process()
    gone.executableURL = URL(fileURLWithPath: "/bin/true")
    try gone.run()
    gone.waitUntilExit()
    let stale = folder + "/\(id).json.tmp-\(gone.processIdentifier)"
    XCTAssertTrue(FileManager.default.createFile(atPath: stale, contents: Data("{".utf8)))
    let live = folder + "/\(id).json.tmp-1"  // (PID 1 is always running)
    XCTAssertTrue(FileManager.default.createFile(atPath: live, contents: Data("{".utf8)))
    try await driver.remove(id: id, force: true)
    for n in try await driver.networks() where n.name == net.name { try await driver.removeNetwork(id: n.id) }
    await driver.forget(fixture: fixture)
    XCTAssertTrue(FileManager.default.fileExists(atPath: live), "a running writer's file is kept, and with it the folder")
    try FileManager.default.removeItem(atPath: live)
    await driver.forget(fixture: fixture)
    XCTAssertFalse(FileManager.default.fileExists(atPath: folder), "\((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])")
  }
}

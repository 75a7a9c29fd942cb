import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// What the Resolver gives the process driver: subnets of its mode, mounts
/// as host folders, the mode on the network's labels.
final class ProcessResolveTests: XCTestCase {
  /// Root owns the manifest's (fictitious) folder: instances run as root.
  static let users: FakeUsers = {
    var u = FakeUsers(current: (0, 0))
    u.owners["/src"] = (0, 0)
    return u
  }()

  func manifest(_ mode: NetworkMode, subnet: IPv4Network? = nil, templates: [FileSpec] = []) -> Manifest {
    Manifest(
      path: "/src/m.yaml", fixture: "web", driver: .process, root: "/src/cthulhu-fixture",
      network: NetworkSettings(subnet: subnet, mode: mode),
      groups: [Group(name: "node", source: .image(""), count: 3, command: ["/bin/app"], templates: templates)])
  }

  func testLoopbackTakesAFree127Subnet() throws {
    let taken = try Resolver(manifest: manifest(.loopback), previous: nil, users: Self.users).resolve().network.subnet
    XCTAssertTrue(IPv4Network("127.77.0.0/16")!.contains(taken.address), "\(taken)")
    let next = try Resolver(manifest: manifest(.loopback), previous: nil, usedSubnets: [taken], users: Self.users).resolve().network.subnet
    XCTAssertNotEqual(next, taken, "another process fixture's subnet is never reused")
    XCTAssertTrue(IPv4Network("127.77.0.0/16")!.contains(next.address))
    XCTAssertThrowsError(try Resolver(manifest: manifest(.loopback, subnet: IPv4Network("10.1.2.0/24")!), previous: nil, users: Self.users).resolve())
    {
      XCTAssertTrue("\($0)".contains("127.0.0.0/8"), "\($0)")
    }
    XCTAssertEqual(
      try Resolver(manifest: manifest(.loopback, subnet: IPv4Network("127.5.5.0/24")!), previous: nil, users: Self.users).resolve().network.subnet
        .description, "127.5.5.0/24")
  }

  func testNamespacesTakeAPrivateSubnetAndAModeChangeIsNotSilent() throws {
    let desired = try Resolver(manifest: manifest(.namespaces), previous: nil, users: Self.users).resolve()
    XCTAssertTrue(IPv4Network("10.77.0.0/16")!.contains(desired.network.subnet.address), "\(desired.network.subnet)")
    XCTAssertEqual(desired.network.labels[Labels.networkMode], "namespaces")
    XCTAssertThrowsError(
      try Resolver(manifest: manifest(.namespaces, subnet: IPv4Network("127.9.0.0/24")!), previous: nil, users: Self.users).resolve())
    // A loopback fixture's subnet is not kept when the mode changes.
    var state = FixtureState(fixture: "web", root: "/src/cthulhu-fixture", driver: .process)
    state.subnet = IPv4Network("127.77.3.0/24")!
    let again = try Resolver(manifest: manifest(.namespaces), previous: state, users: Self.users).resolve().network.subnet
    XCTAssertNotEqual(again, state.subnet)
    XCTAssertEqual(try Resolver(manifest: manifest(.loopback), previous: state, users: Self.users).resolve().network.subnet, state.subnet)
  }

  func testMountsAreHostFoldersInSpecsEnvironmentAndTemplates() throws {
    let dir = NSTemporaryDirectory() + "cthulhu-resolve-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "{{ mounts.etc }} {{ mounts.var }}".write(toFile: dir + "/t", atomically: true, encoding: .utf8)
    var m = manifest(.loopback, templates: [FileSpec(source: dir + "/t", mount: "etc", path: "paths")])
    m.groups[0].mounts = [Mount(name: "etc", path: "/opt/app/etc"), Mount(name: "var", path: "/opt/app/var"), Mount(name: "my-data", path: "/data")]
    let i = try XCTUnwrap(Resolver(manifest: m, previous: nil, users: Self.users).resolve().instances.first)
    let folder = "/src/cthulhu-fixture/\(i.ip)/bindmounts"
    XCTAssertEqual(i.container.binds.map(\.container), ["\(folder)/etc", "\(folder)/var", "\(folder)/my-data"])
    XCTAssertEqual(i.container.binds.map(\.host), i.container.binds.map(\.container))
    XCTAssertTrue(i.container.env.contains("CTHULHU_MOUNT_MY_DATA=\(folder)/my-data"), "\(i.container.env)")
    XCTAssertTrue(i.container.env.contains("CTHULHU_IP=\(i.ip)"))
    XCTAssertTrue(i.container.env.contains("CTHULHU_ASSERTIONS=\(folder)/var/cthulhu-assertions.jsonl"), "properties go to its var folder")
    XCTAssertEqual(
      FixturePaths(root: "/src/cthulhu-fixture").assertions(ip: i.ip), "\(folder)/var/cthulhu-assertions.jsonl", "where a run reads them")
    m.groups[0].mounts.removeAll { $0.name == "var" }
    let bare = try XCTUnwrap(Resolver(manifest: m, previous: nil, users: Self.users).resolve().instances.first)
    XCTAssertFalse(bare.container.env.contains { $0.hasPrefix("CTHULHU_ASSERTIONS=") }, "no var mount, no file to state properties in")
    XCTAssertEqual(String(decoding: try XCTUnwrap(i.files.first).content, as: UTF8.self), "\(folder)/etc \(folder)/var")
  }

  func testDockerSpecsAreUnchanged() throws {
    var m = manifest(.loopback)
    m.driver = .docker
    m.groups[0].source = .image("app:1")
    let d = try Resolver(manifest: m, previous: nil, users: Self.users).resolve()
    XCTAssertTrue(IPv4Network("172.30.0.0/15")!.contains(d.network.subnet.address))
    XCTAssertNil(d.network.labels[Labels.networkMode])
    XCTAssertEqual(d.instances[0].container.binds.map(\.container), ["/opt/app/etc", "/opt/app/var"])
    XCTAssertFalse(d.instances[0].container.env.contains { $0.hasPrefix("CTHULHU_MOUNT_") })
    XCTAssertTrue(d.instances[0].container.env.contains("CTHULHU_ASSERTIONS=/opt/app/var/cthulhu-assertions.jsonl"), "the path the container sees")
  }
}

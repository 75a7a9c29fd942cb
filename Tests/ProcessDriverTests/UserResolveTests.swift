import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// A host's users as a table: who cthulhu is, who exists, who owns what.
struct FakeUsers: HostUsers {
  var current: (uid: UInt32, gid: UInt32)
  var users: [HostUser] = [
    HostUser(name: "root", uid: 0, gid: 0, home: "/root"),
    HostUser(name: "alice", uid: 1000, gid: 1000, home: "/home/alice"),
  ]
  var groups: [String: UInt32] = ["root": 0, "alice": 1000, "staff": 50]
  var owners: [String: (uid: UInt32, gid: UInt32)] = [:]

  func user(named name: String) -> HostUser? { users.first { $0.name == name } }
  func user(uid: UInt32) -> HostUser? { users.first { $0.uid == uid } }
  func group(named name: String) -> UInt32? { groups[name] }
  var modes: [String: UInt32] = [:]
  var memberships: [UInt32: Set<UInt32>] = [:]

  func owner(of path: String) -> (uid: UInt32, gid: UInt32)? { owners[path] }
  func access(of path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
    guard let mode = modes[path], let o = owners[path] else { return nil }
    return (mode, o.uid, o.gid)
  }
  func groups(uid: UInt32, gid: UInt32) -> Set<UInt32> { memberships[uid, default: []].union([gid]) }
}

/// Who instances run as, decided by the Resolver from `user:`, the driver,
/// who cthulhu is and who owns the manifest's folder; and what plan says.
final class UserResolveTests: XCTestCase {
  static let root = (uid: UInt32(0), gid: UInt32(0))

  func manifest(_ driver: DriverKind, user: UserSpec? = nil, count: Int = 2) -> Manifest {
    Manifest(
      path: "/src/m.yaml", fixture: "web", driver: driver, root: "/src/cthulhu-fixture",
      groups: [
        Group(
          name: "node", source: driver == .docker ? .image("app:1") : .image(""), count: count,
          command: ["/bin/app"], user: user)
      ])
  }

  func resolve(_ m: Manifest, as users: FakeUsers) throws -> DesiredInstance {
    let desired = try Resolver(manifest: m, previous: nil, users: users).resolve()
    return try XCTUnwrap(desired.instances.first)
  }

  func spec(_ text: String, line: Int = 6) -> UserSpec {
    let parts = text.split(separator: ":").map { p -> UserSpec.ID in UInt32(p).map { .number($0) } ?? .name(String(p)) }
    return UserSpec(user: parts[0], group: parts.count > 1 ? parts[1] : nil, location: SourceLocation(file: "m.yaml", line: line, column: 11))
  }

  // MARK: - Process driver, cthulhu as root

  func testRootDefaultsToTheOwnerOfTheManifestsFolder() throws {
    var users = FakeUsers(current: Self.root)
    users.owners["/src"] = (4242, 4343)  // a uid without a passwd entry: the folder's group
    var i = try resolve(manifest(.process), as: users)
    XCTAssertEqual(i.container.user, "4242:4343")
    XCTAssertEqual(i.runAs, RunAs(uid: 4242, gid: 4343))
    XCTAssertEqual(i.owner, FileOwner(uid: 4242, gid: 4343))
    XCTAssertEqual(i.runAs?.description, "uid 4242, gid 4343")

    users.owners["/src"] = (1000, 50)  // a known user: its primary group
    i = try resolve(manifest(.process), as: users)
    XCTAssertEqual(i.container.user, "1000:1000")
    XCTAssertEqual(i.runAs?.description, "uid 1000 (alice), gid 1000")
    XCTAssertEqual(i.runAs?.short, "1000:1000(alice)")

    users.owners["/src"] = (0, 0)
    i = try resolve(manifest(.process), as: users)
    XCTAssertEqual(i.container.user, "0:0", "root only when root owns the folder")
    XCTAssertEqual(i.owner, FileOwner(uid: 0, gid: 0))
  }

  func testAnUnreadableFolderIsAnErrorNotRoot() {
    XCTAssertThrowsError(try resolve(manifest(.process), as: FakeUsers(current: Self.root))) {
      XCTAssertEqual((($0 as? OrchestratorError)?.code), .user)
      XCTAssertEqual(
        "\($0)",
        "group 'node' (i001, i002): cannot tell who owns /src, the manifest's folder, whose owner instances run as by default; give the group a 'user'"
      )
    }
  }

  func testRootRunsAsTheNamedUser() throws {
    let users = FakeUsers(current: Self.root)
    XCTAssertEqual(try resolve(manifest(.process, user: spec("alice")), as: users).container.user, "1000:1000")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("alice:staff")), as: users).container.user, "1000:50")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("alice:7")), as: users).container.user, "1000:7")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("1000")), as: users).container.user, "1000:1000", "a known uid: its primary group")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("4242")), as: users).container.user, "4242:4242", "an unknown uid: the same gid")
    let i = try resolve(manifest(.process, user: spec("4242:root")), as: users)
    XCTAssertEqual(i.container.user, "4242:0")
    XCTAssertEqual(i.runAs, RunAs(uid: 4242, gid: 0))
    XCTAssertEqual(i.owner, FileOwner(uid: 4242, gid: 0))
  }

  func testUnknownNamesAreErrorsNamingTheGroupAndItsInstances() {
    let users = FakeUsers(current: Self.root)
    XCTAssertThrowsError(try resolve(manifest(.process, user: spec("nosuch")), as: users)) {
      XCTAssertEqual(($0 as? OrchestratorError)?.code, .user)
      XCTAssertEqual(
        "\($0)",
        "m.yaml:6:11: group 'node' (i001, i002): user 'nosuch' does not exist on this machine (the process driver runs instances as host users); create it, or give a uid such as 1000"
      )
    }
    XCTAssertThrowsError(try resolve(manifest(.process, user: spec("alice:nogroup")), as: users)) {
      XCTAssertEqual(
        "\($0)",
        "m.yaml:6:11: group 'node' (i001, i002): group 'nogroup' of 'user' does not exist on this machine; create it, or give a gid such as 1000")
    }
  }

  /// A fixture folder its instances' user cannot reach is refused at plan
  /// time in one sentence naming the folder and its mode (every instance
  /// would exit at once with "Permission denied").
  func testAFolderTheUserCannotReachIsRefusedNamingItsMode() {
    var users = FakeUsers(current: Self.root)
    users.modes = ["/": 0o755, "/src": 0o700]
    users.owners = ["/": (0, 0), "/src": (0, 0)]
    XCTAssertThrowsError(try resolve(manifest(.process, user: spec("alice")), as: users)) {
      XCTAssertEqual(($0 as? OrchestratorError)?.code, .user)
      XCTAssertEqual(
        "\($0)",
        "m.yaml:6:11: group 'node' (i001, i002): its instances run as uid 1000 (alice), gid 1000, who cannot reach the fixture's folder /src/cthulhu-fixture: /src has mode 0700 (rwx------), owner uid 0, gid 0; let that user through (chmod o+x /src) or put the fixture where it can reach ('root:')"
      )
    }
    // The folder's group lets a member through; its owner always passes; root is never stopped.
    users.modes["/src"] = 0o710
    users.owners["/src"] = (0, 50)
    XCTAssertThrowsError(try resolve(manifest(.process, user: spec("alice")), as: users), "alice is not in staff")
    users.memberships[1000] = [50]
    XCTAssertNoThrow(try resolve(manifest(.process, user: spec("alice")), as: users), "a supplementary group lets alice through")
    XCTAssertNoThrow(try resolve(manifest(.process, user: spec("alice:staff")), as: users), "so does her group")
    users.owners["/src"] = (1000, 0)
    users.memberships = [:]
    users.modes["/src"] = 0o700
    XCTAssertNoThrow(try resolve(manifest(.process, user: spec("alice")), as: users), "the owner")
    users.owners["/src"] = (0, 0)
    XCTAssertNoThrow(try resolve(manifest(.process, user: spec("root")), as: users), "root")
    // The fixture's own folder, once it exists, is checked too.
    users.modes["/src"] = 0o755
    users.modes["/src/cthulhu-fixture"] = 0o750
    users.owners["/src/cthulhu-fixture"] = (0, 0)
    XCTAssertThrowsError(try resolve(manifest(.process, user: spec("alice")), as: users)) {
      XCTAssertTrue("\($0)".contains("/src/cthulhu-fixture has mode 0750 (rwxr-x---)"), "\($0)")
    }
  }

  // MARK: - Process driver, cthulhu as another user

  func testWithoutRootTheDefaultIsCthulhusOwnUser() throws {
    var users = FakeUsers(current: (1000, 1000))
    users.owners["/src"] = (4242, 4242)  // not consulted: only root can switch
    let i = try resolve(manifest(.process), as: users)
    XCTAssertEqual(i.container.user, "1000:1000")
    XCTAssertEqual(i.runAs?.name, "alice")
    XCTAssertNil(i.owner, "only root gives files away")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("alice")), as: users).container.user, "1000:1000", "naming oneself is fine")
    XCTAssertEqual(try resolve(manifest(.process, user: spec("1000:1000")), as: users).container.user, "1000:1000")
  }

  func testWithoutRootAnotherUserIsOneSentence() {
    let users = FakeUsers(current: (1000, 1000))
    for (user, who) in [("root", "uid 0, gid 0"), ("4242", "uid 4242, gid 4242"), ("alice:staff", "uid 1000, gid 50")] {
      XCTAssertThrowsError(try resolve(manifest(.process, user: spec(user)), as: users), user) {
        XCTAssertEqual(
          "\($0)",
          "m.yaml:6:11: group 'node' (i001, i002): cthulhu runs as uid 1000 (alice), not root, so it cannot start instances as \(who); remove 'user' or run cthulhu as root"
        )
      }
    }
  }

  // MARK: - Docker

  func testDockerPassesUserAsWritten() throws {
    let root = FakeUsers(current: Self.root)
    var i = try resolve(manifest(.docker), as: root)
    XCTAssertNil(i.container.user, "the image's user")
    XCTAssertNil(i.runAs)
    XCTAssertNil(i.owner)
    i = try resolve(manifest(.docker, user: spec("nosuch")), as: root)
    XCTAssertEqual(i.container.user, "nosuch", "a name is the image's to resolve")
    XCTAssertEqual(i.runAs?.description, "user nosuch (as the image defines it)")
    XCTAssertNil(i.owner, "its uid is unknown here")
    i = try resolve(manifest(.docker, user: spec("4242:4343")), as: root)
    XCTAssertEqual(i.container.user, "4242:4343")
    XCTAssertEqual(i.owner, FileOwner(uid: 4242, gid: 4343))
    i = try resolve(manifest(.docker, user: spec("4242")), as: root)
    XCTAssertEqual(i.owner, FileOwner(uid: 4242, gid: nil), "the group is the image's: left as it is")
    XCTAssertEqual(i.runAs?.short, "4242")
    i = try resolve(manifest(.docker, user: spec("4242")), as: FakeUsers(current: (1000, 1000)))
    XCTAssertNil(i.owner, "only root gives files away")
  }

  func testDockerSpecHashIsUnchangedWithoutUser() throws {
    let i = try resolve(manifest(.docker), as: FakeUsers(current: Self.root))
    let json = String(decoding: try JSONEncoder().encode(i.container), as: UTF8.self)
    XCTAssertFalse(json.contains("\"user\""), json)
  }

  // MARK: - Plan

  func testPlanSaysWhoNewInstancesRunAsAndAUserChangeReplaces() throws {
    var users = FakeUsers(current: Self.root)
    users.owners["/src"] = (4242, 4242)
    let desired = try Resolver(manifest: manifest(.process, count: 1), previous: nil, users: users).resolve()
    let fresh = try Planner.plan(desired: desired, observed: ObservedFixture(state: nil), manifest: "/src/m.yaml", basis: "")
    let create = try XCTUnwrap(fresh.steps.first { $0.target == .instance("i001") })
    XCTAssertEqual(create.reasons, ["new instance \(desired.instances[0].ip) in group 'node'", "as uid 4242, gid 4242"])
    XCTAssertTrue(PlanRenderer.text(fresh).contains("        # as uid 4242, gid 4242\n"), PlanRenderer.text(fresh))

    let was = desired.instances[0]
    let now = try resolve(manifest(.process, user: spec("alice"), count: 1), as: users)
    XCTAssertNotEqual(was.specHash, now.specHash)
    XCTAssertEqual(
      Planner.specReasons(old: was.container, new: now.container, was: was.runAs, now: now.runAs),
      ["user 4242:4242 → 1000:1000(alice)"])
    XCTAssertEqual(Planner.specReasons(old: was.container, new: now.container), ["user 4242:4242 → 1000:1000"])
    var docker = was.container
    docker.user = nil
    XCTAssertEqual(Planner.specReasons(old: docker, new: now.container), ["user the image's → 1000:1000"])
  }
}

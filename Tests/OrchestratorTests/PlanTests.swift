import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// Resolution and diff against the in-memory driver, asserting whole plans as text.
final class PlanTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-plan-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try template(
      "{\"self\": \"{{ instance.ip }}\", \"peers\": [{% for p in peers %}\"{{ p.ip }}\"{% if not forloop.last %}, {% endif %}{% endfor %}]}\n")
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func template(_ text: String) throws {
    try text.write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
  }

  func manifest(count: Int = 3, image: String = "app:1", onChange: OnChange = .restart, extra: [Group] = []) -> Manifest {
    let g = Group(
      name: "node", source: .image(image), count: count, command: ["/bin/sh", "-c", "sleep 1000"],
      templates: [FileSpec(source: dir + "/templates/config.json", mount: "etc", path: "config.json")],
      onChange: onChange)
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.5.0/24")), groups: [g] + extra)
  }

  func apply(_ m: Manifest, _ o: FixtureController) async throws -> FixtureController.ApplyResult {
    let planned = try await o.plan(m)
    let r = try await o.apply(planned)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    return r
  }

  func text(_ m: Manifest, _ o: FixtureController) async throws -> String {
    PlanRenderer.text(try await o.plan(m).plan).replacingOccurrences(of: dir, with: "$DIR")
  }

  func testFreshPlan() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    let got = try await text(manifest(), o)
    XCTAssertEqual(
      got,
      """
      cthulhu will make these changes to fixture 'kv' ($DIR/fixture):

        +   network:cthulhu-kv  create
              # new fixture network 172.28.5.0/24
        +   instance:i001  create
              # new instance 172.28.5.2 in group 'node'
        +   instance:i002  create
              # new instance 172.28.5.3 in group 'node'
        +   instance:i003  create
              # new instance 172.28.5.4 in group 'node'

      Plan: 3 to add, 0 to change, 0 to destroy.

      """)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture"), "planning must not write anything")
  }

  func testApplyWritesFixtureThenNoOp() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    let r = try await apply(manifest(), o)
    XCTAssertEqual(r.state.instances.map(\.name), ["i001", "i002", "i003"])
    XCTAssertEqual(r.state.instances.map(\.ip.description), ["172.28.5.2", "172.28.5.3", "172.28.5.4"])
    let fm = FileManager.default
    XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: dir + "/fixture/i002"), "172.28.5.3")
    let config = try String(contentsOfFile: dir + "/fixture/172.28.5.3/bindmounts/etc/config.json", encoding: .utf8)
    XCTAssertEqual(config, "{\"self\": \"172.28.5.3\", \"peers\": [\"172.28.5.2\", \"172.28.5.4\"]}\n")
    XCTAssertTrue(fm.fileExists(atPath: dir + "/fixture/172.28.5.2/bindmounts/var/i001.log"))
    XCTAssertTrue(fm.isExecutableFile(atPath: dir + "/fixture/control"))
    XCTAssertTrue(fm.isExecutableFile(atPath: dir + "/fixture/172.28.5.2/control"))
    let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/fixture/spec.json"))) as! [String: Any]
    XCTAssertEqual(spec.keys.sorted(), ["i001", "i002", "i003"], "the original's shape: instances only")
    let i1 = spec["i001"] as! [String: Any]
    XCTAssertEqual(i1["ip"] as? String, "172.28.5.2")
    XCTAssertFalse(fm.fileExists(atPath: dir + "/fixture/.cthulhu/lock"), "the lock is released")
    let again = try await text(manifest(), o)
    XCTAssertEqual(again, "No changes. Fixture 'kv' matches $DIR/cthulhu.yaml.\n")
  }

  func testScaleUpThenDown() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await apply(manifest(count: 3), o)
    let up = try await text(manifest(count: 5), o)
    XCTAssertTrue(up.contains("+   instance:i004  create\n        # new instance 172.28.5.5"), up)
    XCTAssertTrue(up.contains("+   instance:i005  create"), up)
    // Peers changed for the three kept instances: their config is rewritten and they restart.
    XCTAssertTrue(up.contains("~   instance:i001  update (restart)\n        # etc/config.json changed"), up)
    XCTAssertTrue(up.hasSuffix("Plan: 2 to add, 3 to change, 0 to destroy.\n"), up)
    _ = try await apply(manifest(count: 5), o)
    let down = try await text(manifest(count: 2), o)
    XCTAssertTrue(down.contains("-   instance:i003  delete\n        # group 'node' scaled down to 2"), down)
    XCTAssertTrue(down.contains("-   instance:i005  delete"), down)
    XCTAssertTrue(down.hasSuffix("Plan: 0 to add, 2 to change, 3 to destroy.\n"), down)
    let r = try await apply(manifest(count: 2), o)
    XCTAssertEqual(r.state.instances.map(\.name), ["i001", "i002"])
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture/i003"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture/172.28.5.4"))
  }

  func testALinkNamedLikeAnInstanceThatCthulhuDidNotMakeIsKept() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await apply(manifest(count: 2), o)
    // Someone's own link in the fixture folder, named as a fourth instance would be.
    XCTAssertEqual(symlink("elsewhere", dir + "/fixture/i004"), 0)
    _ = try await apply(manifest(count: 3), o)
    _ = try await apply(manifest(count: 2), o)
    XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/fixture/i004"), "elsewhere")
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture/i003"), "the link cthulhu made for i003 went with it")
  }

  func testANewSubnetWhileScalingDownReplacesTheNetworkAfterTheDeletes() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await apply(manifest(count: 3), o)
    var m = manifest(count: 2)
    m.network.subnet = IPv4Network("10.9.9.0/24")
    let planned = try await o.plan(m).plan
    let net = try XCTUnwrap(planned.steps.first)
    XCTAssertEqual(net.target, .network("cthulhu-kv"))
    XCTAssertEqual(net.action, .replace)
    XCTAssertEqual(net.reasons, ["subnet 172.28.5.0/24 → 10.9.9.0/24"])
    XCTAssertEqual(net.dependsOn, [.instance("i003")], "the scaled-away instance goes first")
    let i001 = try XCTUnwrap(planned.steps.first { $0.target == .instance("i001") })
    XCTAssertEqual(i001.action, .replace)
    XCTAssertEqual(i001.reasons, ["address 172.28.5.2 → 10.9.9.2"])
    XCTAssertTrue(i001.dependsOn.contains(.network("cthulhu-kv")))
    try "kept\n".write(toFile: dir + "/fixture/172.28.5.3/bindmounts/etc/kept", atomically: true, encoding: .utf8)
    let r = try await apply(m, o)
    XCTAssertEqual(r.state.instances.map { "\($0.name)@\($0.ip)" }, ["i001@10.9.9.2", "i002@10.9.9.3"])
    XCTAssertEqual(r.state.subnet, IPv4Network("10.9.9.0/24"))
    XCTAssertEqual(try String(contentsOfFile: dir + "/fixture/i002/bindmounts/etc/kept", encoding: .utf8), "kept\n")
    let left = try FileManager.default.contentsOfDirectory(atPath: dir + "/fixture").filter { $0.hasPrefix("172.28.5.") }
    XCTAssertEqual(left, [], "no folder at an old address")
    let again = try await o.plan(m).plan
    XCTAssertTrue(again.steps.isEmpty, "\(again.steps)")
  }

  func testStickyIdentityTakesLowestFreeNames() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1", "db:1"]), executable: .neverRun)
    let db = Group(name: "db", source: .image("db:1"), count: 1, mounts: [])
    _ = try await apply(manifest(count: 2, extra: [db]), o)
    // i001, i002 node; i003 db. Growing node takes i004, never renames db's i003.
    let r = try await apply(manifest(count: 3, extra: [db]), o)
    XCTAssertEqual(
      r.state.instances.map { "\($0.name)=\($0.group)@\($0.ip)" },
      [
        "i001=node@172.28.5.2", "i002=node@172.28.5.3", "i003=db@172.28.5.4", "i004=node@172.28.5.5",
      ])
  }

  func testImageChangeReplaces() async throws {
    let driver = MemoryDriver(images: ["app:1", "app:2"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(count: 1), o)
    let got = try await text(manifest(count: 1, image: "app:2"), o)
    XCTAssertTrue(got.contains("-/+ instance:i001  replace\n        # image app:1 → app:2\n"), got)
    XCTAssertTrue(got.hasSuffix("Plan: 1 to add, 0 to change, 1 to destroy.\n"), got)
  }

  func testRetaggedImageIsSeen() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(count: 1), o)
    driver.tag("app:1", id: "sha256:0123456789abcdef")
    let got = try await text(manifest(count: 1), o)
    XCTAssertTrue(got.contains("# image app:1 now has id 0123456789ab"), got)
  }

  func testTemplateChangeWithOnChangeNoneAndSignal() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(count: 2, onChange: .none), o)
    try template("{\"self\": \"{{ instance.name }}\"}\n")
    let got = try await text(manifest(count: 2, onChange: .none), o)
    XCTAssertTrue(got.contains("~   instance:i001  update (files only, no restart)\n        # etc/config.json changed\n"), got)
    driver.resetCalls()
    _ = try await apply(manifest(count: 2, onChange: .none), o)
    XCTAssertEqual(driver.calls, [], "on_change none rewrites files without touching the container")
    XCTAssertEqual(try String(contentsOfFile: dir + "/fixture/172.28.5.2/bindmounts/etc/config.json", encoding: .utf8), "{\"self\": \"i001\"}\n")
    try template("{\"self\": \"{{ instance.ip }}\"}\n")
    driver.resetCalls()
    _ = try await apply(manifest(count: 2, onChange: .signal("HUP")), o)
    XCTAssertEqual(driver.calls.sorted(), ["kill-HUP kv-i001", "kill-HUP kv-i002"])
  }

  func testDriftRemovedStoppedAndEdited() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(), o)
    driver.removeOutside(containerNamed: "kv-i001")
    driver.setState(instanceContainer: "kv-i002", .exited)
    try "hand edit".write(toFile: dir + "/fixture/172.28.5.4/bindmounts/etc/config.json", atomically: true, encoding: .utf8)
    let got = try await text(manifest(), o)
    XCTAssertEqual(
      got,
      """
      cthulhu will make these changes to fixture 'kv' ($DIR/fixture):

        +   instance:i001  create
              # container removed outside cthulhu
        ~   instance:i002  start
              # container exited
        ~   instance:i003  update (restart)
              # etc/config.json edited outside cthulhu

      Plan: 1 to add, 2 to change, 0 to destroy.

      """)
    _ = try await apply(manifest(), o)
    let again = try await text(manifest(), o)
    XCTAssertEqual(again, "No changes. Fixture 'kv' matches $DIR/cthulhu.yaml.\n")
  }

  func testStalePlanIsRefused() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(), o)
    driver.setState(instanceContainer: "kv-i002", .exited)
    let planned = try await o.plan(manifest())
    // Another apply between the plan and its apply moves the state.
    _ = try await apply(manifest(count: 2), o)
    do {
      _ = try await o.apply(planned)
      XCTFail("a plan made before the state moved must be refused")
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .stalePlan)
    }
    let r = try await o.apply(try await o.plan(manifest(count: 2)))
    XCTAssertFalse(r.plan.hasChanges, "nothing ran of the refused plan: \(r.plan.steps)")
  }

  /// The engine is not asked again under the lock: what moved there since
  /// the plan is met by trying, then by a fresh look and a new plan.
  func testEngineDriftAfterThePlanIsRepairedByAFreshLook() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(), o)
    driver.setState(instanceContainer: "kv-i002", .exited)
    let planned = try await o.plan(manifest())
    XCTAssertEqual(planned.plan.steps.map { "\($0.target) \($0.action.rawValue)" }, ["instance:i002 start"])
    driver.removeOutside(containerNamed: "kv-i002")
    driver.resetCalls()
    let r = try await o.apply(planned)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(r.replans.map { $0.steps.map { "\($0.target) \($0.action.rawValue)" } }, [["instance:i002 create"]])
    XCTAssertEqual(driver.calls, ["create kv-i002", "start kv-i002"])
    let again = try await o.plan(manifest())
    XCTAssertTrue(again.plan.steps.isEmpty, "\(again.plan.steps)")
  }

  func testEventLogRecordsEveryStepAndControlAction() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(count: 2), o)
    _ = try await o.lifecycle(.stop, root: dir + "/fixture", names: ["i002"])
    let events = EventLog(root: dir + "/fixture").read()
    XCTAssertEqual(
      events.map { "\($0.action) \($0.targets.joined(separator: ",")) \($0.outcome)" }.sorted(),
      [
        "create instance:i001 ok", "create instance:i002 ok", "create network:cthulhu-kv ok", "stop i002 ok: i002",
      ])
    XCTAssertEqual(events.last?.action, "stop", "control actions come after the apply that made the fixture")
    XCTAssertEqual(events.map(\.kind), [.step, .step, .step, .lifecycle])
    XCTAssertEqual(events.last?.instances, ["i002"])
    XCTAssertEqual(Set(events.compactMap(\.instances).joined()), ["i001", "i002"], "the network's step names no instance")
    XCTAssertTrue(zip(events, events.dropFirst()).allSatisfy { $0.monotonic <= $1.monotonic })
  }

  func testDestroyRemovesEverythingItMade() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await apply(manifest(), o)
    let report = try await o.destroy(root: dir + "/fixture")
    XCTAssertEqual(report.containers, ["kv-i001", "kv-i002", "kv-i003"])
    XCTAssertEqual(report.networks, ["cthulhu-kv"])
    let left = try await driver.containers(fixture: "kv")
    XCTAssertEqual(left, [])
    let nets = try await driver.networks()
    XCTAssertEqual(nets, [])
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture"))
  }

  func testTemplateErrorNamesFileLineAndInstance() async throws {
    try template("line one\n{% for p in peers %}\n")
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    do {
      _ = try await o.plan(manifest(count: 1))
      XCTFail("expected a template error")
    } catch let e as OrchestratorError {
      XCTAssertTrue(e.message.hasPrefix(dir + "/templates/config.json:2: error: "), e.message)
      XCTAssertTrue(e.message.hasSuffix("(rendering for instance i001)"), e.message)
    }
  }

  func testLockRefusesSecondHolder() throws {
    let paths = FixturePaths(root: dir + "/fixture")
    let first = try FixtureLock(paths: paths, command: "apply")
    XCTAssertThrowsError(try FixtureLock(paths: paths, command: "apply")) { e in
      XCTAssertTrue("\(e)".contains("locked by pid \(getpid()) (cthulhu apply)"), "\(e)")
    }
    first.release()
    XCTAssertNoThrow(try FixtureLock(paths: paths, command: "destroy").release())
  }

  func testPlanOfThousandInstances() async throws {
    var m = manifest(count: 1000)
    m.groups[0].templates = []  // every config listing 999 peers is a template-engine benchmark, not a planner test
    m.network.subnet = IPv4Network("172.28.0.0/22")
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    let p = try await o.plan(m).plan
    XCTAssertEqual(p.summary.add, 1000)
    XCTAssertEqual(p.steps.last?.target, .instance("i1000"))
  }
}

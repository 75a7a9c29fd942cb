import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The nemesis's `grow` and `shrink`: an apply limited to one change of
/// one group (``ApplyEngine/changeGroup(_:group:kind:bound:)``), on the
/// file-backed cluster of ``MembershipApplyTests``.
extension MembershipApplyTests {
  var root: String { dir + "/fixture" }

  /// The steps the last apply ran, in the event log's order.
  func stepEvents(since n: Int) -> [String] {
    EventLog(root: root).read().dropFirst(n).filter { $0.kind == .step }.map { "\($0.action) \($0.targets[0])" }
  }

  func testAMembershipChangeIsOneStepWithNoHeal() {
    let schedule = NemesisSchedule(
      seed: 7,
      faults: [
        NemesisFault(action: .grow(group: "db", max: 5), targets: .init(words: ["db"]), lasting: .zero, every: .seconds(8), times: 3),
        NemesisFault(action: .kill(signal: "KILL"), targets: .init(words: ["db"], random: 1), after: .seconds(1), lasting: .seconds(2)),
      ])
    let refs = ["i001", "i002", "i003"].map { NemesisTimeline.InstanceRef(name: $0, group: "db") }
    let steps = Array(NemesisTimeline(schedule: schedule, instances: refs))
    XCTAssertEqual(steps.map { "\($0.atMs) \($0.label)\($0.heal ? " heal" : "")" }, ["0 1.1", "1000 2.1", "3000 2.1 heal", "8000 1.2", "16000 1.3"])
    XCTAssertEqual(schedule.faults[0].action.describe([]), "grow db (max 5)")
    XCTAssertEqual(
      schedule.faults[0].action.start(on: [], among: []), .change(group: "db", .grow, bound: 5))
    XCTAssertTrue(NemesisTimeline(schedule: schedule, instances: refs).summary().contains("1. grow db (max 5) on db: at 0s, every 8s, 3 times\n"))
  }

  func testAGrowAddsOneInstanceAndItsJoinAndLeavesAKilledInstanceStopped() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 3)))
    _ = try await o.lifecycle(.kill, root: root, names: ["i002"])
    let full = try await o.plan(manifest(count: 4))
    XCTAssertTrue(full.plan.steps.contains { $0.target == .instance("i002") && $0.action == .start }, "a full apply would start i002")
    let before = EventLog(root: root).read().count

    let change = try await o.engine.changeGroup(manifest(count: 3), group: "db", kind: .grow, bound: 5)
    XCTAssertEqual(change, GroupChange(kind: .grow, group: "db", from: 3, to: 4, instance: "i004", outcome: .committed))
    XCTAssertEqual(change.summary, "grow db: i004 joined (committed), 3 → 4")
    XCTAssertEqual(try members(), ["i001", "i002", "i003", "i004"])
    XCTAssertEqual(stepEvents(since: before), ["join member:i004", "create instance:i004"])
    let state = try XCTUnwrap(FixtureState.read(root: root)?.state)
    XCTAssertEqual(state.instances.map(\.name), ["i001", "i002", "i003", "i004"])
    let live = try await driver.containers(fixture: "kv").byInstance()
    XCTAssertEqual(live["i004"]?.state, .running)
    XCTAssertNotEqual(live["i002"]?.state, .running, "the killed instance stays down")
    XCTAssertEqual(try conf("i004", state), "state=existing members=i001@172.28.5.2,i002@172.28.5.3,i003@172.28.5.4,i004@172.28.5.5\n")
    // The manifest (count 3) still wants what it did: the change is the nemesis's, not the manifest's.
    let after = try await o.plan(manifest(count: 4))
    XCTAssertEqual(after.plan.steps.map { "\($0.action.rawValue) \($0.target)" }, ["start instance:i002"])
  }

  func testAShrinkRemovesTheHighestAfterItsLeaveAndStopsAtItsBound() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 3)))
    let before = EventLog(root: root).read().count
    let change = try await o.engine.changeGroup(manifest(count: 3), group: "db", kind: .shrink, bound: 2)
    XCTAssertEqual(change, GroupChange(kind: .shrink, group: "db", from: 3, to: 2, instance: "i003", outcome: .committed))
    XCTAssertEqual(try members(), ["i001", "i002"])
    XCTAssertEqual(stepEvents(since: before), ["leave member:i003", "delete instance:i003"], "deleted only after its leave")
    XCTAssertEqual(try XCTUnwrap(FixtureState.read(root: root)?.state).instances.map(\.name), ["i001", "i002"])

    let atMin = try await o.engine.changeGroup(manifest(count: 3), group: "db", kind: .shrink, bound: 2)
    XCTAssertEqual(atMin.skipped, "it has 2 instance(s), its min")
    XCTAssertNil(atMin.instance)
    XCTAssertEqual(try members(), ["i001", "i002"])
  }

  func testAJoinThatNeverCommitsFailsTheChangeAndMakesNothing() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 3)))
    let refused = manifest(count: 3, join: "echo refused >&2; exit 1", attempts: 1, timeout: .milliseconds(300))
    do {
      _ = try await o.engine.changeGroup(refused, group: "db", kind: .grow, bound: 5)
      XCTFail("the change should fail")
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .membership)
      XCTAssertTrue(e.message.hasPrefix("grow db (i004): member:i004: join of instance i004"), e.message)
    }
    XCTAssertEqual(try members(), ["i001", "i002", "i003"])
    XCTAssertNil(try XCTUnwrap(FixtureState.read(root: root)?.state).instance(named: "i004"))
  }
}

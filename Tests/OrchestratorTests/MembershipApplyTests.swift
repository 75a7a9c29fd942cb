import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// A group with `membership:` grows and shrinks one change at a time:
/// `join` before its instance's create, `leave` before its delete, each
/// resolved by reading the view. The cluster here is a file of member
/// names that the commands edit, so every outcome can be forced.
final class MembershipApplyTests: XCTestCase {
  var dir: String!
  var cluster: String { dir + "/members" }

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-member-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try
      "state={{ membership.cluster_state }} members={% for m in membership.members %}{{ m.name }}@{{ m.ip }}{% if not forloop.last %},{% endif %}{% endfor %}\n"
      .write(toFile: dir + "/templates/conf", atomically: true, encoding: .utf8)
    try "i001\ni002\ni003\n".write(toFile: cluster, atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  static let add = "echo {{ instance.name }} >> members"
  static let remove = "grep -vx {{ instance.name }} members > members.new; mv members.new members"

  func manifest(count: Int, join: String = add, attempts: Int = 3, timeout: Duration = .seconds(5)) -> Manifest {
    var g = Group(
      name: "db", source: .image("app:1"), count: count, command: ["/bin/sh", "-c", "sleep 1000"],
      templates: [FileSpec(source: dir + "/templates/conf", mount: "etc", path: "conf")])
    // (The commands run in the fixture's root; the cluster file is beside it.)
    g.membership = Membership(
      join: ["/bin/sh", "-c", "cd .. && " + join], leave: ["/bin/sh", "-c", "cd .. && " + Self.remove],
      view: ["/bin/sh", "-c", "cat ../members"], timeout: timeout, attempts: attempts)
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.5.0/24")), groups: [g])
  }

  func members() throws -> [String] {
    try String(contentsOfFile: cluster, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  func conf(_ name: String, _ state: FixtureState) throws -> String {
    let ip = try XCTUnwrap(state.instance(named: name)).ip
    return try String(contentsOfFile: dir + "/fixture/\(ip)/bindmounts/etc/conf", encoding: .utf8)
  }

  func steps(_ plan: Plan) -> [String] {
    plan.steps.map { "\($0.action.rawValue) \($0.target) <- \($0.dependsOn.map(\.description).joined(separator: ","))" }
  }

  func membershipEvents() -> [String] {
    EventLog(root: dir + "/fixture").read().filter { $0.kind == .membership }.map { "\($0.action) \($0.targets[0]): \($0.outcome)" }
  }

  func testGrowingPlansOneJoinBeforeEachCreateAndJoinsInOrder() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    let first = try await o.apply(try await o.plan(manifest(count: 3)))
    XCTAssertTrue(first.failures.isEmpty, "\(first.failures)")
    XCTAssertFalse(first.plan.steps.contains { $0.target == .member("i001") }, "a new cluster starts whole: nobody joins")
    XCTAssertEqual(try conf("i001", first.state), "state=new members=i001@172.28.5.2,i002@172.28.5.3,i003@172.28.5.4\n")

    let grow = try await o.plan(manifest(count: 5))
    XCTAssertEqual(
      steps(grow.plan),
      [
        "join member:i004 <- ", "create instance:i004 <- member:i004",
        "join member:i005 <- instance:i004", "create instance:i005 <- member:i005",
      ])
    XCTAssertEqual(grow.plan.steps[2].members?.map(\.name), ["i001", "i002", "i003", "i004"])
    let text = PlanRenderer.text(grow.plan)
    XCTAssertTrue(text.contains("  +   member:i004  join (through i001, i002, i003)\n"), text)
    XCTAssertTrue(text.contains("Plan: 2 to add, 0 to change, 0 to destroy."), text)
    let json = try PlanRenderer.json(grow.plan)
    XCTAssertTrue(json.contains("\"target\" : \"member:i004\"") || json.contains("\"target\": \"member:i004\""), json)
    XCTAssertEqual(try JSONDecoder().decode(Plan.self, from: Data(json.utf8)), grow.plan)

    let r = try await o.apply(grow)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(try members(), ["i001", "i002", "i003", "i004", "i005"])
    XCTAssertEqual(try conf("i004", r.state), "state=existing members=i001@172.28.5.2,i002@172.28.5.3,i003@172.28.5.4,i004@172.28.5.5\n")
    XCTAssertTrue(try conf("i005", r.state).hasPrefix("state=existing members=i001@172.28.5.2,i002@172.28.5.3,i003@172.28.5.4,i004@172.28.5.5,i005@"))
    XCTAssertEqual(try conf("i001", r.state), "state=new members=i001@172.28.5.2,i002@172.28.5.3,i003@172.28.5.4\n", "members keep their files")
    XCTAssertEqual(membershipEvents(), ["join member:i004: ok: committed through i001", "join member:i005: ok: committed through i001"])
    let again = try await o.plan(manifest(count: 5))
    XCTAssertTrue(again.plan.steps.isEmpty, PlanRenderer.text(again.plan))

    let shrink = try await o.plan(manifest(count: 3))
    XCTAssertEqual(
      steps(shrink.plan),
      [
        "leave member:i005 <- ", "delete instance:i005 <- member:i005",
        "leave member:i004 <- instance:i005", "delete instance:i004 <- member:i004",
      ])
    XCTAssertEqual(shrink.plan.steps[0].members?.map(\.name), ["i001", "i002", "i003", "i004"])
    let s = try await o.apply(shrink)
    XCTAssertTrue(s.failures.isEmpty, "\(s.failures)")
    XCTAssertEqual(try members(), ["i001", "i002", "i003"])
    XCTAssertEqual(s.state.instances.map(\.name), ["i001", "i002", "i003"])
    let done = try await o.plan(manifest(count: 3))
    XCTAssertTrue(done.plan.steps.isEmpty, PlanRenderer.text(done.plan))
  }

  func testAJoinThatNeverCommitsFailsTheApplyNamingTheInstanceAndTheNextApplyRepairs() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 3)))
    let failed = try await o.apply(try await o.plan(manifest(count: 4, join: "echo refused >&2; exit 1", attempts: 2, timeout: .milliseconds(300))))
    XCTAssertEqual(failed.failures.map(\.target), ["member:i004"])
    let error = try XCTUnwrap(failed.failures.first?.error as? OrchestratorError)
    XCTAssertEqual(error.code, .membership)
    XCTAssertTrue(
      error.message.hasPrefix("join of instance i004 (group 'db') did not commit after 2 attempt(s); last: through i002: "), error.message)
    XCTAssertEqual(failed.notStarted.map(\.target), [.instance("i004")], "no instance starts outside its cluster")
    XCTAssertNil(failed.state.instance(named: "i004"))
    XCTAssertEqual(try members(), ["i001", "i002", "i003"])
    XCTAssertEqual(membershipEvents().count, 2, "each pending attempt is an event: \(membershipEvents())")

    let repair = try await o.plan(manifest(count: 4))
    XCTAssertEqual(steps(repair.plan), ["join member:i004 <- ", "create instance:i004 <- member:i004"])
    let r = try await o.apply(repair)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(try members(), ["i001", "i002", "i003", "i004"])
    let live = try await driver.containers(fixture: "kv")
    XCTAssertEqual(live.count, 4)
  }

  func testAJoinThatTimesOutAfterCommittingIsResolvedByTheViewAndOneMadeBeforeIsNotMadeAgain() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 3)))
    // The change commits, then its command hangs past the timeout.
    let r = try await o.apply(try await o.plan(manifest(count: 4, join: Self.add + "; exec sleep 30", timeout: .milliseconds(500))))
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(try members(), ["i001", "i002", "i003", "i004"])
    let events = membershipEvents()
    XCTAssertEqual(events.count, 2, "\(events)")
    XCTAssertTrue(events[0].hasPrefix("join member:i004: ok: pending after attempt 1 of 3: through i001: "), "\(events)")
    XCTAssertTrue(events[0].contains("did not finish within"), "\(events)")
    XCTAssertTrue(events[1].hasPrefix("join member:i004: ok: resolved: the view shows it after attempt 1"), "\(events)")

    // A member the view shows already (a join an earlier apply made) is not added again.
    try "i001\ni002\ni003\ni004\ni005\n".write(toFile: cluster, atomically: true, encoding: .utf8)
    let r5 = try await o.apply(try await o.plan(manifest(count: 5, join: "exit 1")))
    XCTAssertTrue(r5.failures.isEmpty, "\(r5.failures)")
    XCTAssertEqual(membershipEvents().last, "join member:i005: ok: already: the view shows it")
  }

  func testTheViewTakesAddressesAndJSON() {
    XCTAssertEqual(MembershipChange.parseView(" i001 \n\n10.0.0.3\n"), ["i001", "10.0.0.3"])
    XCTAssertEqual(MembershipChange.parseView("[\"i001\", \"i002\"]\n"), ["i001", "i002"])
  }
}

/// The cases where scaling is no membership change, a leave resolved by
/// the view, and a review of a manifest change (`plan --against`).
final class MembershipPlanTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-member-plan-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "i001\ni002\n".write(toFile: dir + "/members", atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func manifest(count: Int, leave: String = "exit 0", file: String = "cthulhu.yaml") throws -> Manifest {
    let path = dir + "/" + file
    try """
    fixture: kv
    network: { subnet: 172.28.5.0/24 }
    groups:
      db:
        image: app:1
        count: \(count)
        membership:
          join: [/bin/sh, -c, "echo {{ instance.name }} >> ../members"]
          leave: [/bin/sh, -c, "\(leave)"]
          view: [cat, ../members]
          timeout: 300ms
          attempts: 2

    """.write(toFile: path, atomically: true, encoding: .utf8)
    return try ManifestLoader.load(path: path)
  }

  func testAGroupMadeFromNothingStartsWholeAndOneScaledToZeroTellsNobody() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    let none = try await o.apply(try await o.plan(manifest(count: 0)))
    XCTAssertTrue(none.failures.isEmpty, "\(none.failures)")
    let made = try await o.plan(manifest(count: 2))
    XCTAssertEqual(made.plan.steps.map(\.target), [.instance("i001"), .instance("i002")], "no join")
    XCTAssertEqual(made.desired.instances.map(\.membership?.clusterState), [.new, .new])
    _ = try await o.apply(made)
    let gone = try await o.plan(manifest(count: 0, leave: "exit 1"))
    XCTAssertEqual(gone.plan.steps.map(\.action), [.delete, .delete], "no member left to tell")
    let r = try await o.apply(gone)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
  }

  func testALeaveWhoseCommandFailsAfterTheClusterTookItIsResolved() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 2)))
    // The member is removed, and the command reports a failure all the same.
    let r = try await o.apply(try await o.plan(manifest(count: 1, leave: "echo i001 > ../members; exit 3")))
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(r.state.instances.map(\.name), ["i001"])
    let outcomes = EventLog(root: dir + "/cthulhu-fixture").read().filter { $0.kind == .membership }.map(\.outcome)
    XCTAssertEqual(outcomes.count, 2, "\(outcomes)")
    XCTAssertTrue(
      outcomes[0].hasPrefix("ok: pending after attempt 1 of 2: through i001: `/bin/sh -c echo i001 > ../members; exit 3` exited 3"), "\(outcomes)")
    XCTAssertEqual(
      outcomes[1], "ok: resolved: the view shows it after attempt 1 (through i001: `/bin/sh -c echo i001 > ../members; exit 3` exited 3)")
  }

  /// Interrupts the apply once a membership step has ended.
  struct InterruptAfterJoin: ApplyObserver {
    let interrupt: Interrupt
    func started(_ step: Step) {}
    func finished(_ step: Step, after: Duration, error: (any Error)?) {
      if step.action == .join { interrupt.request() }
    }
  }

  func testAMemberThatJoinedAndWasNeverMadeLeavesWhenItsGroupShrinksBack() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 2)))
    var options = ApplyOptions()
    options.interrupt = Interrupt()
    options.parallel = 1
    let cut = try await o.apply(try await o.plan(manifest(count: 3)), options: options, observer: InterruptAfterJoin(interrupt: options.interrupt!))
    XCTAssertEqual(cut.notStarted.map(\.target), [.instance("i003")])
    XCTAssertEqual(try String(contentsOfFile: dir + "/members", encoding: .utf8), "i001\ni002\ni003\n")
    XCTAssertEqual(cut.state.unmadeMembers?.map(\.name), ["i003"])
    // Scaled back before an apply made it: it leaves, and nothing else happens.
    let back = try await o.plan(manifest(count: 2, leave: "grep -vx {{ instance.name }} ../members > ../m; mv ../m ../members"))
    XCTAssertEqual(back.plan.steps.map(\.target), [.member("i003")])
    XCTAssertEqual(back.plan.steps.first?.action, .leave)
    let r = try await o.apply(back)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertEqual(try String(contentsOfFile: dir + "/members", encoding: .utf8), "i001\ni002\n")
    XCTAssertNil(r.state.unmadeMembers)
    let done = try await o.plan(manifest(count: 2))
    XCTAssertTrue(done.plan.steps.isEmpty, PlanRenderer.text(done.plan))
  }

  func testAMemberThatJoinedIsForgottenOnceItsInstanceIsMade() async throws {
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest(count: 2)))
    var options = ApplyOptions()
    options.interrupt = Interrupt()
    _ = try await o.apply(try await o.plan(manifest(count: 3)), options: options, observer: InterruptAfterJoin(interrupt: options.interrupt!))
    let again = try await o.plan(manifest(count: 3))
    XCTAssertEqual(again.plan.steps.map(\.target), [.member("i003"), .instance("i003")])
    let r = try await o.apply(again)
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    XCTAssertNil(r.state.unmadeMembers)
    XCTAssertEqual(try String(contentsOfFile: dir + "/members", encoding: .utf8), "i001\ni002\ni003\n", "not added twice")
  }

  func testAReviewOfAScaledManifestShowsTheJoins() throws {
    let plan = try ManifestDiff.plan(old: manifest(count: 2, file: "old.yaml"), new: manifest(count: 3, file: "new.yaml"))
    XCTAssertEqual(plan.steps.map(\.target), [.member("i003"), .instance("i003")])
    XCTAssertEqual(plan.steps.first?.members?.map(\.name), ["i001", "i002"])
  }
}

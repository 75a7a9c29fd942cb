import Foundation
import Manifest
import Synchronization
import XCTest

@testable import Orchestrator

/// A nemesis with `grow` and `shrink` entries, run in process on an
/// in-memory fixture whose cluster is a file of member names: each change
/// is a step with its outcome, later draws see the new instances, and
/// `nemesis stop` brings the group back to the manifest's count.
final class NemesisMembershipTests: XCTestCase {
  var dir: String!
  var root: String { dir + "/fixture" }

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-nemesis-member-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try "{{ membership.cluster_state }}\n".write(toFile: dir + "/templates/conf", atomically: true, encoding: .utf8)
    try "i001\ni002\ni003\n".write(toFile: dir + "/members", atomically: true, encoding: .utf8)
    // The commands run in the fixture's root; the cluster file is beside it.
    try """
    fixture: kv
    root: fixture
    network: { subnet: 172.28.5.0/24 }
    groups:
      db:
        image: app:1
        count: 3
        command: [/bin/sh, -c, sleep 1000]
        templates:
          - { source: templates/conf, target: etc/conf }
        membership:
          join: [/bin/sh, -c, "cd .. && echo {{ instance.name }} >> members"]
          leave: [/bin/sh, -c, "cd .. && grep -vx {{ instance.name }} members > members.new; mv members.new members"]
          view: [/bin/sh, -c, "cat ../members"]
          timeout: 5s
    nemesis:
      seed: 5
      faults:
        - { grow: db, max: 5, every: 100ms, times: 3 }
        - { kill: random 1, after: 250ms, for: 100ms }

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func members() throws -> [String] {
    try String(contentsOfFile: dir + "/members", encoding: .utf8).split(separator: "\n").map(String.init)
  }

  final class Ends: NemesisObserver {
    let ends = Mutex<[NemesisStepEnd]>([])
    func nemesisStepStarts(_ step: NemesisStepStart) {}
    func nemesisStepEnded(_ step: NemesisStepEnd) { ends.withLock { $0.append(step) } }
  }

  func testGrowStepsChangeTheGroupWithinMaxLaterDrawsSeeThemAndStopRestoresTheCount() async throws {
    let manifest = try ManifestLoader.load(path: dir + "/cthulhu.yaml")
    let schedule = try XCTUnwrap(manifest.nemesis)
    let o = FixtureController(driver: MemoryDriver(images: ["app:1"]), executable: .neverRun)
    _ = try await o.apply(try await o.plan(manifest))
    let state = try FixtureState.require(root: root)
    try NemesisRecord(startedAt: Date(), schedule: schedule, instances: NemesisRunner.nemesisInstances(schedule, state: state)).save(
      root: root)

    let ends = Ends()
    try await o.nemesis.runNemesis(root: root, observer: ends, stopping: { false })
    let steps = ends.ends.withLock { $0 }
    XCTAssertEqual(
      steps.filter { $0.step.action.isMembership }.map(\.summary),
      ["grow db: i004 joined (committed), 3 → 4", "grow db: i005 joined (committed), 4 → 5", "grow db: skipped, it has 5 instance(s), its max"])
    XCTAssertEqual(steps.first?.targets, ["i004"])
    XCTAssertEqual(try members(), ["i001", "i002", "i003", "i004", "i005"])
    let record = try XCTUnwrap(try NemesisRecord.load(root: root))
    XCTAssertEqual(record.instances.map(\.name), ["i001", "i002", "i003", "i004", "i005"], "later draws see the members that joined")
    XCTAssertEqual(record.done?.map(\.kind), ["grow", "grow", "grow", "kill", "kill"])
    let killed = try XCTUnwrap(record.done?[3].targets)
    XCTAssertEqual(killed.count, 1)
    XCTAssertEqual(
      EventLog(root: root).read().filter { $0.action.hasPrefix("nemesis grow") }.map { "\($0.action): \($0.outcome)" },
      [
        "nemesis grow 1.1: ok: grow db: i004 joined (committed), 3 → 4", "nemesis grow 1.2: ok: grow db: i005 joined (committed), 4 → 5",
        "nemesis grow 1.3: ok: grow db: skipped, it has 5 instance(s), its max",
      ])

    let stop = try await o.stopNemesis(root: root)
    XCTAssertEqual(stop.changes.map(\.summary), ["shrink db: i005 left (committed), 5 → 4", "shrink db: i004 left (committed), 4 → 3"])
    XCTAssertEqual(try members(), ["i001", "i002", "i003"])
    XCTAssertEqual(try FixtureState.require(root: root).instances.map(\.name), ["i001", "i002", "i003"])
    let after = try await o.plan(manifest)
    XCTAssertTrue(after.plan.steps.isEmpty, PlanRenderer.text(after.plan))
  }
}

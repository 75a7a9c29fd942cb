import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// `partition: cut` and targets a command chooses: the timeline, the plan,
/// and the command run as the nemesis runs it, with each way it can fail.
final class NemesisTargetCommandTests: XCTestCase {
  let five = (1...5).map { NemesisTimeline.InstanceRef(name: InstanceName.make($0), group: $0 <= 3 ? "server" : "client") }
  var dir = ""

  override func setUp() async throws {
    dir = NSTemporaryDirectory() + "cthulhu-target-command-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDown() async throws { try? FileManager.default.removeItem(atPath: dir) }

  func testACutTakesItsTargetsAgainstEveryOtherInstance() {
    let cut = NemesisFault(action: .partition(.cut), targets: NemesisTargets(words: ["all"], random: 1), lasting: .seconds(1), every: .seconds(2))
    let timeline = NemesisTimeline(schedule: NemesisSchedule(seed: 3, faults: [cut]), instances: five)
    let starts = timeline.prefix(20).filter { !$0.heal }
    XCTAssertEqual(starts.count, 10)
    XCTAssertTrue(starts.allSatisfy { $0.names.count == 1 })
    XCTAssertGreaterThan(Set(starts.map(\.names)).count, 1, "a new member drawn at each occurrence")
    let all = five.map(\.name)
    XCTAssertEqual(
      cut.action.start(on: ["i002"], among: all), .fault(.partition(sets: [["i002"], ["i001", "i003", "i004", "i005"]])),
      "cut from every other instance, and nothing about the host")
    XCTAssertEqual(cut.action.describe(["i002"]), "partition (cut) {i002} from the other instances")
  }

  func testTargetsACommandChoosesAreKnownOnlyWhenTheOccurrenceStarts() {
    let f = NemesisFault(
      action: .partition(.majority), targets: NemesisTargets(command: ["/opt/primary.sh"], directory: "/opt"), lasting: .seconds(1))
    let timeline = NemesisTimeline(schedule: NemesisSchedule(seed: 1, faults: [f]), instances: five)
    XCTAssertEqual(timeline.names(entry: 0, occurrence: 0), [])
    let chosen = timeline.names(entry: 0, occurrence: 0, chosen: ["i001", "i002", "i003"])
    XCTAssertEqual(chosen.sorted(), ["i001", "i002", "i003"])
    XCTAssertEqual(chosen, timeline.names(entry: 0, occurrence: 0, chosen: ["i001", "i002", "i003"]), "shuffled from the seed")
    let plan = timeline.plan()
    XCTAssertEqual(plan.faults[0].targetCommand, ["/opt/primary.sh"])
    XCTAssertEqual(plan.faults[0].targetWords, [])
    XCTAssertEqual(plan.firstSteps.map(\.targets), [[], []])
    XCTAssertEqual(plan.firstSteps[0].summary, "partition (majority) ‹primary.sh›")
    XCTAssertTrue(timeline.summary().contains("1. partition majority on command /opt/primary.sh: at 0s for 1s"), timeline.summary())
  }

  func script(_ body: String) throws -> String {
    let path = dir + "/targets-\(UUID().uuidString.prefix(8)).sh"
    try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
  }

  func choose(_ body: String, fewest: Int = 1, most: Int? = nil, timeout: Duration = .seconds(10)) async throws -> [String] {
    var c = NemesisTargetCommand(command: [try script(body)], directory: dir, root: dir + "/fixture")
    c.timeout = timeout
    return try await c.choose(among: five.map(\.name), entry: 2, fewest: fewest, most: most)
  }

  func failure(_ body: String, fewest: Int = 1, most: Int? = nil, timeout: Duration = .seconds(10)) async -> String {
    do {
      let got = try await choose(body, fewest: fewest, most: most, timeout: timeout)
      return "chose \(got)"
    } catch let e as OrchestratorError {
      XCTAssertEqual(e.code, .exited)
      return e.message
    } catch {
      return "\(error)"
    }
  }

  func testTheCommandRunsInTheManifestFolderWithTheFixtureInItsEnvironment() async throws {
    let got = try await choose(#"[ "$PWD" = "\#(dir)" ] && [ "$CTHULHU_SPEC" = "$CTHULHU_FIXTURE/spec.json" ] && printf 'i003\n\n  i001 \ni003\n'"#)
    XCTAssertEqual(got, ["i003", "i001"], "one a line, blank lines and repeats skipped")
  }

  func testEachWayTheCommandFailsIsSaid() async throws {
    let failed = await failure("echo 'no primary elected' >&2; exit 3")
    XCTAssertTrue(failed.hasPrefix("the targets command of nemesis fault 2 (`\(dir)/targets-"), failed)
    XCTAssertTrue(failed.hasSuffix("exited with status 3: no primary elected"), failed)
    let unknown = await failure("echo i001; echo redis-2")
    XCTAssertTrue(unknown.hasSuffix("printed 'redis-2', which is no instance of the fixture (it has i001, i002, i003, i004, i005)"), unknown)
    let none = await failure("true")
    XCTAssertTrue(none.hasSuffix("printed no instance name; the fault needs at least 1"), none)
    let few = await failure("echo i001; echo i002", fewest: 3)
    XCTAssertTrue(few.hasSuffix("printed 2 (i001, i002); the fault needs at least 3"), few)
    let many = await failure("printf 'i001\\ni002\\n'", most: 1)
    XCTAssertTrue(many.hasSuffix("printed 2 names (i001, i002); the fault takes at most 1, leaving others to cut them from"), many)
    let hung = await failure("exec sleep 30", timeout: .milliseconds(300))
    XCTAssertTrue(hung.contains("did not finish within 0.3 seconds and was killed"), hung)
    do {
      _ = try await NemesisTargetCommand(command: [dir + "/nosuch"], directory: dir, root: dir).choose(among: ["i001"], entry: 1, fewest: 1)
      XCTFail("a missing program chose targets")
    } catch let e as OrchestratorError {
      XCTAssertTrue(e.message.hasPrefix("the targets command of nemesis fault 1 (`\(dir)/nosuch`) could not start: "), e.message)
    }
  }
}

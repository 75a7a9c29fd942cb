import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The nemesis as data: the schedule in `plan --json` and `nemesis status
/// --json`. Each is encoded as the CLI prints it, then read back, both as the
/// Swift type and as plain JSON objects (the keys a script reads).
final class NemesisReportTests: XCTestCase {
  let five = (1...5).map { NemesisTimeline.InstanceRef(name: InstanceName.make($0), group: $0 <= 3 ? "server" : "client") }

  let schedule = NemesisSchedule(
    seed: 42,
    faults: [
      NemesisFault(action: .partition(.majority), after: .seconds(1), lasting: .seconds(3), every: .seconds(10), times: 5),
      NemesisFault(
        action: .delay(milliseconds: 100, jitterMilliseconds: 20, distribution: "uniform"), targets: NemesisTargets(words: ["all"], random: 2),
        after: .seconds(2), lasting: .milliseconds(1500), every: .seconds(5)),
      NemesisFault(
        action: .kill(signal: "TERM"), targets: NemesisTargets(words: ["server"], random: 1), after: .milliseconds(4250), lasting: .seconds(1)),
    ])

  func object(_ json: String) throws -> [String: Any] {
    try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
  }

  // MARK: plan --json

  func testThePlanCarriesTheScheduleAndItsFirstDraws() throws {
    let timeline = NemesisTimeline(schedule: schedule, instances: five)
    var plan = Plan(fixture: "kv", root: "/tmp/kv/cthulhu-fixture", manifest: "/tmp/kv/cthulhu.yaml", basis: "b", steps: [])
    plan.nemesis = timeline.plan()
    let json = try PlanRenderer.json(plan)

    // Read back as the type: the same value.
    let back = try JSONDecoder.cthulhu.decode(Plan.self, from: Data(json.utf8))
    XCTAssertEqual(back, plan)
    XCTAssertEqual(back.formatVersion, 2, "adding the nemesis key keeps format version 2")
    let n = try XCTUnwrap(back.nemesis)
    XCTAssertEqual(n.seed, 42)
    XCTAssertEqual(n.faults.map(\.kind), ["partition", "delay", "kill"])

    // Read back as a script does: the documented keys and their values.
    let top = try object(json)
    let nemesis = try XCTUnwrap(top["nemesis"] as? [String: Any])
    XCTAssertEqual(nemesis["seed"] as? Int, 42)
    XCTAssertEqual(nemesis["moreSteps"] as? Bool, true, "the delay repeats until stopped")
    let faults = try XCTUnwrap(nemesis["faults"] as? [[String: Any]])
    XCTAssertEqual(faults.count, 3)
    XCTAssertEqual(faults[0]["kind"] as? String, "partition")
    XCTAssertEqual(faults[0]["shape"] as? String, "majority")
    XCTAssertEqual(faults[0]["targets"] as? String, "all")
    XCTAssertEqual(faults[0]["afterMs"] as? Int, 1000)
    XCTAssertEqual(faults[0]["forMs"] as? Int, 3000)
    XCTAssertEqual(faults[0]["everyMs"] as? Int, 10000)
    XCTAssertEqual(faults[0]["times"] as? Int, 5)
    XCTAssertEqual(faults[1]["delayMs"] as? Double, 100)
    XCTAssertEqual(faults[1]["jitterMs"] as? Double, 20)
    XCTAssertEqual(faults[1]["distribution"] as? String, "uniform")
    XCTAssertEqual(faults[1]["random"] as? Int, 2)
    XCTAssertEqual(faults[1]["targets"] as? String, "random 2")
    XCTAssertEqual(faults[1]["forMs"] as? Int, 1500)
    XCTAssertNil(faults[1]["times"], "until stopped: no times")
    XCTAssertEqual(faults[2]["signal"] as? String, "TERM")
    XCTAssertEqual(faults[2]["targets"] as? String, "random 1 of server")
    XCTAssertEqual(faults[2]["targetWords"] as? [String], ["server"])
    XCTAssertEqual(faults[2]["afterMs"] as? Int, 4250)
    XCTAssertNil(faults[2]["everyMs"], "once: no period")
    XCTAssertEqual(faults[2]["times"] as? Int, 1)

    // The steps are the generator's, with what the seed drew.
    let steps = try XCTUnwrap(nemesis["firstSteps"] as? [[String: Any]])
    let drawn = Array(NemesisTimeline(schedule: schedule, instances: five).prefix(8))
    XCTAssertEqual(steps.count, 8)
    XCTAssertEqual(steps.compactMap { $0["atMs"] as? Int }, drawn.map { Int($0.atMs) })
    XCTAssertEqual(steps.compactMap { $0["label"] as? String }, drawn.map(\.label))
    XCTAssertEqual(steps.compactMap { $0["action"] as? String }, drawn.map { $0.heal ? "heal" : "fault" })
    XCTAssertEqual(steps.compactMap { $0["targets"] as? [String] }, drawn.map(\.names))
    let kill = try XCTUnwrap(steps.first { ($0["label"] as? String) == "3.1" && ($0["action"] as? String) == "fault" })
    XCTAssertEqual((kill["targets"] as? [String])?.count, 1)
    XCTAssertTrue(["i001", "i002", "i003"].contains((kill["targets"] as? [String])?.first ?? ""), "\(kill)")
  }

  func testDuplicateAndReorderCarryTheirPercents() throws {
    let s = NemesisSchedule(
      seed: 1,
      faults: [
        NemesisFault(action: .duplicate(percent: 30), after: .seconds(1), lasting: .seconds(2)),
        NemesisFault(
          action: .delay(milliseconds: 50, jitterMilliseconds: nil, distribution: nil, reorderPercent: 25), after: .seconds(1), lasting: .seconds(2)),
      ])
    var plan = Plan(fixture: "kv", root: "/tmp/kv/cthulhu-fixture", manifest: "/tmp/kv/cthulhu.yaml", basis: "b", steps: [])
    plan.nemesis = NemesisTimeline(schedule: s, instances: five).plan()
    let faults = try XCTUnwrap(try object(try PlanRenderer.json(plan))["nemesis"] as? [String: Any])["faults"] as? [[String: Any]]
    XCTAssertEqual(faults?.map { $0["kind"] as? String }, ["duplicate", "delay"])
    XCTAssertEqual(faults?[0]["percent"] as? Double, 30)
    XCTAssertEqual(faults?[1]["reorderPercent"] as? Double, 25)
    XCTAssertNil(faults?[0]["reorderPercent"])
  }

  func testTheTextPlanAndTheJSONShowTheSameSteps() throws {
    let timeline = NemesisTimeline(schedule: schedule, instances: five)
    let text = timeline.summary(firstSteps: 5)
    let plan = timeline.plan(firstSteps: 5)
    let stepLines = text.split(separator: "\n").map(String.init).filter { $0.hasPrefix("    +") }
    XCTAssertEqual(stepLines.count, 5)
    for (line, s) in zip(stepLines, plan.firstSteps) {
      XCTAssertEqual(line, "    +\(Units.text(.milliseconds(s.atMs)))  \(s.label)  \(s.summary)")
    }
    XCTAssertTrue(text.contains("  2. delay 100ms ±20ms (uniform) on random 2: at 2s for 1.5s, every 5s until stopped\n"), text)
    XCTAssertTrue(text.contains("  3. kill --signal TERM on random 1 of server: at 4.25s for 1s\n"), text)
    // A schedule that runs out shows no "more".
    let once = NemesisSchedule(seed: 1, faults: [NemesisFault(action: .isolate, targets: .init(words: ["i001"]), lasting: .seconds(1))])
    let short = NemesisTimeline(schedule: once, instances: five).plan()
    XCTAssertEqual(short.firstSteps.map(\.action), ["fault", "heal"])
    XCTAssertEqual(short.firstSteps.map(\.targets), [["i001"], ["i001"]])
    XCTAssertFalse(short.moreSteps)
  }

  func testAPlanWithoutANemesisHasNoKey() throws {
    let plan = Plan(fixture: "kv", root: "/r", manifest: "/m", basis: "b", steps: [])
    XCTAssertNil(try object(PlanRenderer.json(plan))["nemesis"])
  }

  // MARK: nemesis status --json

  func record() -> NemesisRecord {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000.25)
    var r = NemesisRecord(startedAt: t0, schedule: schedule, instances: five)
    r.pid = 4242
    r.stepsDone = 2
    r.recordDone(
      .init(
        time: t0.addingTimeInterval(1), label: "1.1", action: "fault", kind: "partition", targets: ["i001", "i002", "i003", "i004", "i005"],
        faultID: "f1", outcome: "ok", summary: "f1 partition (majority) {i002,i004} | {i001,i003,i005}"))
    r.recordDone(
      .init(
        time: t0.addingTimeInterval(2), label: "2.1", action: "fault", kind: "delay", targets: ["i002", "i005"], outcome: "failed",
        summary: "delay 100ms ±20ms (uniform) i002,i005", error: "i002: no such namespace"))
    r.active = [
      .init(
        entry: 0, occurrence: 0, names: ["i001", "i002", "i003", "i004", "i005"], faultID: "f1", summary: "f1 partition (majority) …",
        since: t0.addingTimeInterval(1), healAt: t0.addingTimeInterval(4))
    ]
    r.next = .init(at: t0.addingTimeInterval(4), label: "1.1", summary: "heal partition (majority) …", heal: true, names: ["i001", "i002"])
    r.lastError = "2.1 delay: i002: no such namespace"
    return r
  }

  func fault() -> Fault {
    var f = Fault(
      id: "f1", kind: .partition, targets: ["i001", "i002", "i003", "i004", "i005"], createdAt: Date(timeIntervalSince1970: 1_800_000_001))
    f.owner = NemesisRecord.owner
    return f
  }

  func testARunningNemesisReadsBackWithEveryField() throws {
    let status = FixtureController.NemesisStatus(record: record(), running: true, died: false, faults: [fault()])
    let json = try NemesisStatusReport(status).json()

    let back = try NemesisStatusReport.decode(Data(json.utf8))
    XCTAssertEqual(back, NemesisStatusReport(status))
    XCTAssertEqual(back.formatVersion, 1)
    XCTAssertEqual(back.state, "running")
    XCTAssertTrue(back.running)
    XCTAssertEqual(back.pid, 4242)
    XCTAssertEqual(back.seed, 42)
    XCTAssertEqual(back.startedAt, Date(timeIntervalSince1970: 1_800_000_000.25), "to the millisecond")
    XCTAssertEqual(back.stepsDone, 2)
    XCTAssertEqual(back.steps.map(\.label), ["1.1", "2.1"])
    XCTAssertEqual(back.steps.map(\.outcome), ["ok", "failed"])
    XCTAssertEqual(back.steps[0].faultID, "f1")
    XCTAssertEqual(back.steps[1].error, "i002: no such namespace")
    XCTAssertEqual(back.next?.action, "heal")
    XCTAssertEqual(back.next?.at, Date(timeIntervalSince1970: 1_800_000_004.25))
    XCTAssertEqual(back.inForce.map(\.faultID), ["f1"])
    XCTAssertEqual(back.inForce.first?.healAt, Date(timeIntervalSince1970: 1_800_000_004.25))
    XCTAssertEqual(back.faults.map(\.id), ["f1"])
    XCTAssertEqual(back.lastError, "2.1 delay: i002: no such namespace")

    // The documented keys, as a script reads them.
    let top = try object(json)
    XCTAssertEqual(top["formatVersion"] as? Int, 1)
    XCTAssertEqual(top["running"] as? Bool, true)
    XCTAssertEqual(top["startedAt"] as? String, "2027-01-15T08:00:00.250Z")
    let steps = try XCTUnwrap(top["steps"] as? [[String: Any]])
    XCTAssertEqual(steps[0]["time"] as? String, "2027-01-15T08:00:01.250Z")
    XCTAssertEqual(steps[0]["action"] as? String, "fault")
    XCTAssertEqual(steps[0]["kind"] as? String, "partition")
    XCTAssertEqual(steps[1]["targets"] as? [String], ["i002", "i005"])
    let next = try XCTUnwrap(top["next"] as? [String: Any])
    XCTAssertEqual(next["label"] as? String, "1.1")
    XCTAssertEqual(next["targets"] as? [String], ["i001", "i002"])
    let held = try XCTUnwrap(top["inForce"] as? [[String: Any]])
    XCTAssertEqual(held.first?["label"] as? String, "1.1")
    XCTAssertEqual((top["faults"] as? [[String: Any]])?.first?["owner"] as? String, "nemesis")
  }

  func testEndedDiedAndNeverStartedSayWhich() throws {
    var finished = record()
    finished.pid = nil
    finished.ended = "finished"
    finished.endedAt = Date(timeIntervalSince1970: 1_800_000_060)
    finished.active = []
    let done = NemesisStatusReport(.init(record: finished, running: false, died: false, faults: []))
    XCTAssertEqual(done.state, "finished")
    XCTAssertFalse(done.running)
    XCTAssertNil(done.pid)
    XCTAssertNil(done.next, "a nemesis that does not run waits for no step")
    XCTAssertEqual(done.endedAt, Date(timeIntervalSince1970: 1_800_000_060))

    var stopped = finished
    stopped.ended = "stopped"
    XCTAssertEqual(NemesisStatusReport(.init(record: stopped, running: false, died: false, faults: [])).state, "stopped")

    // Killed: its pid is kept, and what it left in force.
    let died = NemesisStatusReport(.init(record: record(), running: false, died: true, faults: [fault()]))
    XCTAssertEqual(died.state, "died")
    XCTAssertFalse(died.running)
    XCTAssertEqual(died.pid, 4242)
    XCTAssertEqual(died.inForce.count, 1)
    XCTAssertEqual(died.faults.count, 1)

    let none = try object(NemesisStatusReport.none.json())
    XCTAssertEqual(none["state"] as? String, "none")
    XCTAssertEqual(none["running"] as? Bool, false)
    XCTAssertEqual(none["formatVersion"] as? Int, 1)
    XCTAssertEqual(none["steps"] as? [String], [])
    XCTAssertNil(none["pid"])
  }

  func testARecordFromBeforeStepsWereKeptStillReads() throws {
    // A record an older cthulhu wrote: times in whole seconds, no `done`, a `next` without its action and targets.
    var data = try JSONSerialization.jsonObject(with: try JSONEncoder.cthulhu.encode(record())) as! [String: Any]
    data["done"] = nil
    var next = data["next"] as! [String: Any]
    next["heal"] = nil
    next["names"] = nil
    data["next"] = next
    let old = try JSONDecoder.cthulhuMilliseconds.decode(NemesisRecord.self, from: try JSONSerialization.data(withJSONObject: data))
    let report = NemesisStatusReport(.init(record: old, running: true, died: false, faults: []))
    XCTAssertEqual(report.steps, [])
    XCTAssertEqual(report.stepsDone, 2)
    XCTAssertEqual(report.next?.label, "1.1")
    XCTAssertNil(report.next?.action)
    XCTAssertEqual(report.startedAt, Date(timeIntervalSince1970: 1_800_000_000))
  }

  func testTheRecordKeepsTheLastStepsOnly() {
    var r = NemesisRecord(startedAt: Date(), schedule: schedule, instances: five)
    for i in 0..<(NemesisRecord.doneKept + 5) {
      r.recordDone(.init(time: Date(), label: "1.\(i + 1)", action: "fault", kind: "partition", targets: [], outcome: "ok", summary: ""))
    }
    XCTAssertEqual(r.done?.count, NemesisRecord.doneKept)
    XCTAssertEqual(r.done?.first?.label, "1.6")
    XCTAssertEqual(r.done?.last?.label, "1.\(NemesisRecord.doneKept + 5)")
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The nemesis generator: steps in time order, a heal between occurrences,
/// and the same sequence for the same seed.
final class NemesisTimelineTests: XCTestCase {
  let five = (1...5).map { NemesisTimeline.InstanceRef(name: InstanceName.make($0), group: $0 <= 3 ? "server" : "client") }

  func schedule(seed: UInt64) -> NemesisSchedule {
    NemesisSchedule(
      seed: seed,
      faults: [
        NemesisFault(action: .partition(.majority), after: .seconds(1), lasting: .seconds(3), every: .seconds(10), times: 5),
        NemesisFault(
          action: .delay(milliseconds: 100, jitterMilliseconds: 20, distribution: nil), targets: NemesisTargets(words: ["all"], random: 2),
          after: .seconds(2), lasting: .seconds(2), every: .seconds(5)),
        NemesisFault(action: .kill(signal: "KILL"), targets: NemesisTargets(words: ["server"], random: 1), after: .seconds(4), lasting: .seconds(1)),
      ])
  }

  func steps(seed: UInt64, count: Int = 40) -> [NemesisStep] {
    Array(NemesisTimeline(schedule: schedule(seed: seed), instances: five).prefix(count))
  }

  func testTheSameSeedGivesTheSameSequence() {
    let a = steps(seed: 42)
    XCTAssertEqual(a.count, 40)
    XCTAssertEqual(a, steps(seed: 42))
    // Another seed draws other members and other sides, at the same times.
    let b = steps(seed: 43)
    XCTAssertNotEqual(a.map(\.names), b.map(\.names))
    XCTAssertEqual(a.map(\.atMs), b.map(\.atMs))
  }

  func testStepsComeInTimeOrderWithAHealBetweenOccurrences() {
    let all = steps(seed: 7, count: 200)
    XCTAssertEqual(all.map(\.atMs), all.map(\.atMs).sorted())
    for e in 0..<3 {
      let mine = all.filter { $0.entry == e }
      // start, heal, start, heal…: each occurrence healed before the next starts, on the same instances.
      for (i, s) in mine.enumerated() {
        XCTAssertEqual(s.heal, i % 2 == 1, "entry \(e) step \(i)")
        XCTAssertEqual(s.occurrence, i / 2)
        if s.heal { XCTAssertEqual(s.names, mine[i - 1].names) }
      }
    }
    // Timing: the partition at 1s, 11s, … for 3s, five times; the kill once.
    let partition = all.filter { $0.entry == 0 }
    XCTAssertEqual(partition.map(\.atMs), [1000, 4000, 11000, 14000, 21000, 24000, 31000, 34000, 41000, 44000])
    XCTAssertEqual(all.filter { $0.entry == 2 }.map(\.atMs), [4000, 5000])
    // The delay repeats until stopped.
    XCTAssertEqual(all.filter { $0.entry == 1 }.count, 200 - 10 - 2)
  }

  func testRandomMembersComeFromTheirPool() {
    for s in steps(seed: 9, count: 100) {
      switch s.entry {
      case 0: XCTAssertEqual(s.names.sorted(), five.map(\.name), "a partition shuffles every instance")
      case 1:
        XCTAssertEqual(s.names.count, 2)
        XCTAssertEqual(Set(s.names).count, 2)
      default: XCTAssertTrue(["i001", "i002", "i003"].contains(s.names.first ?? ""), "kill random 1 of server: \(s.names)")
      }
    }
    // Over many occurrences the draws differ (they are drawn anew each time).
    let delays = Set(steps(seed: 9, count: 100).filter { $0.entry == 1 && !$0.heal }.map(\.names))
    XCTAssertGreaterThan(delays.count, 3)
  }

  func testAStepBecomesTheFaultCommandsRequest() {
    let names = ["i003", "i001", "i005", "i002", "i004"]
    let all = names.sorted()
    XCTAssertEqual(NemesisFault.Action.partition(.majority).start(on: names, among: all), .fault(.shaped(.majority, names: names)))
    XCTAssertEqual(NemesisFault.Action.partition(.majority).describe(names), "partition (majority) {i001,i003} | {i002,i004,i005}")
    XCTAssertEqual(NemesisFault.Action.kill(signal: "KILL").start(on: ["i002"], among: all), .lifecycle(.kill, ["i002"], signal: "KILL"))
    XCTAssertEqual(NemesisFault.Action.pause.healVerb, .unpause)
    XCTAssertEqual(NemesisFault.Action.stop.describeHeal(["i002"]), "start i002")
    XCTAssertNil(NemesisFault.Action.isolate.healVerb)
    XCTAssertEqual(NemesisFault.Action.duplicate(percent: 30).start(on: ["i002"], among: all), .fault(.duplicate(percent: 30, ["i002"])))
    XCTAssertEqual(NemesisFault.Action.duplicate(percent: 30).describe(["i002"]), "duplicate 30% i002")
    XCTAssertNil(NemesisFault.Action.duplicate(percent: 30).healVerb)
    let reorder = NemesisFault.Action.delay(milliseconds: 100, jitterMilliseconds: nil, distribution: nil, reorderPercent: 25)
    XCTAssertEqual(reorder.start(on: ["i001"], among: all), .fault(.delay(milliseconds: 100, jitter: nil, reorder: 25, ["i001"])))
    XCTAssertEqual(reorder.describe(["i001"]), "delay 100ms reorder 25% i001")
  }

  func testSummaryShowsTimingAndTheFirstDraws() {
    let text = NemesisTimeline(schedule: schedule(seed: 42), instances: five).summary(firstSteps: 3)
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines[0], "Nemesis (seed 42; `cthulhu nemesis start` runs it in the background):")
    XCTAssertEqual(lines[1], "  1. partition majority on all: at 1s for 3s, every 10s, 5 times")
    XCTAssertEqual(lines[2], "  2. delay 100ms ±20ms on random 2: at 2s for 2s, every 5s until stopped")
    XCTAssertEqual(lines[3], "  3. kill on random 1 of server: at 4s for 1s")
    XCTAssertEqual(lines[4], "  First steps:")
    XCTAssertTrue(lines[5].hasPrefix("    +1s  1.1  partition (majority) {"), lines[5])
    XCTAssertTrue(lines[6].hasPrefix("    +2s  2.1  delay 100ms ±20ms i00"), lines[6])
    XCTAssertTrue(lines[7].hasPrefix("    +4s  1.1  heal partition (majority) {"), lines[7])
    XCTAssertEqual(lines.last, "    …")
  }
}

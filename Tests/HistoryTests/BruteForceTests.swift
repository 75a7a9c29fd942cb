import Foundation
import XCTest

@testable import History

/// The checker against the definition, on thousands of small random
/// cas-register histories: a brute-force search over every order that
/// real time allows, with each unknown operation taking effect or not.
final class BruteForceTests: XCTestCase {
  /// Deterministic (SplitMix64), so a failure names a seed that reproduces it.
  struct Random: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  static let values: [HistoryValue] = [.null, .int(1), .int(2)]

  /// A random history: up to `ops` operations on 3 processes, completions
  /// ok, fail or info, some never completed, read results made up.
  static func randomHistory(_ rng: inout Random, ops: Int) throws -> History {
    var events: [HistoryEvent] = []
    var busy: [Int: (f: String, value: HistoryValue)] = [:]
    var started = 0
    var process = [0, 1, 2]
    while started < ops || !busy.isEmpty {
      let slot = Int.random(in: 0..<3, using: &rng)
      let p = process[slot]
      if let op = busy[p] {
        if started >= ops, Int.random(in: 0..<6, using: &rng) == 0 {  // never completes
          busy[p] = nil
          process[slot] += 3
          continue
        }
        let roll = Int.random(in: 0..<10, using: &rng)
        let type: HistoryEvent.Kind = roll < 7 ? .ok : roll < 9 ? .fail : .info
        var value = op.value
        if op.f == "read" && type == .ok { value = values.randomElement(using: &rng)! }
        events.append(HistoryEvent(process: p, type: type, f: op.f, value: value))
        busy[p] = nil
        if type == .info { process[slot] += 3 }
      } else if started < ops {
        let f = ["read", "write", "cas"].randomElement(using: &rng)!
        var value = HistoryValue.null
        if f == "write" { value = values.dropFirst().randomElement(using: &rng)! }
        if f == "cas" { value = .array([values.randomElement(using: &rng)!, values.dropFirst().randomElement(using: &rng)!]) }
        events.append(HistoryEvent(process: p, type: .invoke, f: f, value: value))
        busy[p] = (f, value)
        started += 1
      }
    }
    for i in events.indices { events[i].line = i + 1 }
    return try History(events: events)
  }

  /// Linearizable by the definition.
  static func bruteForce(_ h: History) -> Bool {
    let ops = h.operations.filter { $0.outcome == .ok || ($0.outcome == .unknown && $0.f != "read") }
    let required = ops.filter { $0.outcome == .ok }.map(\.id)
    func search(_ placed: Set<Int>, _ state: HistoryValue) -> Bool {
      if required.allSatisfy(placed.contains) { return true }
      for op in ops where !placed.contains(op.id) {
        let mustPrecede = ops.filter { $0.outcome == .ok && $0.completion! < op.invoke }
        guard mustPrecede.allSatisfy({ placed.contains($0.id) }) else { continue }
        var next = state
        switch op.f {
        case "read": if op.result != state { continue }
        case "write": next = op.argument
        default:
          guard case .array(let pair) = op.argument else { continue }
          if state == pair[0] { next = pair[1] } else if op.outcome == .ok { continue }
        }
        if search(placed.union([op.id]), next) { return true }
      }
      return false
    }
    return search([], .null)
  }

  func testCheckerAgreesWithTheDefinition() throws {
    var counts = [true: 0, false: 0]
    for seed in 0..<3000 {
      var rng = Random(state: UInt64(seed))
      let h = try Self.randomHistory(&rng, ops: 3 + seed % 6)
      let expected = Self.bruteForce(h)
      counts[expected]! += 1
      let report = try Checker.check(h, model: .casRegister)
      XCTAssertEqual(
        report.verdict, expected ? .linearizable : .notLinearizable, "seed \(seed):\n" + h.events.map(\.jsonLine).joined(separator: "\n"))
      if expected {
        XCTAssertNil(replayProblem(h, report), "seed \(seed)")
      } else if let v = report.violation {
        // The witness alone, every other operation before the cut unknown, is not linearizable either.
        let witness = Set(v.witness)
        var events: [HistoryEvent] = []
        for (i, e) in h.events.enumerated() where i < v.cut {
          guard let op = h.operations.first(where: { $0.invoke == i || $0.completion == i }), op.outcome != .fail else { continue }
          let kept = witness.contains(op.id) && (op.completion ?? .max) < v.cut
          if !kept && op.f == "read" { continue }
          if e.type == .invoke || kept { events.append(HistoryEvent(process: op.id, type: e.type, f: e.f, value: e.value)) }
        }
        XCTAssertFalse(Self.bruteForce(try History(events: events)), "seed \(seed): the witness \(v.witness) can be linearized")
      }
    }
    XCTAssertGreaterThan(counts[true]!, 300)
    XCTAssertGreaterThan(counts[false]!, 300)
  }
}

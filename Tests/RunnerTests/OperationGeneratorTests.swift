import History
import Manifest
import Runner
import XCTest

final class OperationGeneratorTests: XCTestCase {
  func ops(_ kind: GeneratorKind, seed: UInt64, keys: Int = 3, mix: [String: Int] = [:], count: Int = 500) -> [Invocation] {
    var g = OperationGenerator(kind: kind, keys: keys, mix: mix, seed: seed)
    return (0..<count).map { _ in g.next() }
  }

  func testTheSameSeedGivesTheSameOperations() {
    for kind in GeneratorKind.allCases {
      XCTAssertEqual(ops(kind, seed: 42), ops(kind, seed: 42), "\(kind)")
    }
  }

  func testAnotherSeedGivesOtherOperations() {
    for kind in GeneratorKind.allCases where kind != .set {
      XCTAssertNotEqual(ops(kind, seed: 1), ops(kind, seed: 2), "\(kind)")
    }
  }

  func testEveryOperationOfTheDefaultMixComes() {
    for kind in GeneratorKind.allCases {
      let seen = Set(ops(kind, seed: 7).map(\.f))
      XCTAssertEqual(seen, Set(kind == .set ? ["add"] : kind.operations), "\(kind)")
    }
  }

  func testMixWeighsOperations() {
    let all = ops(.casRegister, seed: 3, mix: ["read": 1, "write": 0, "cas": 3], count: 4000)
    XCTAssertFalse(all.contains { $0.f == "write" })
    let cas = all.filter { $0.f == "cas" }.count
    XCTAssertTrue((2700...3300).contains(cas), "\(cas) cas of 4000 at weight 3 of 4")
  }

  func testSetAddsAreUnique() {
    let adds = ops(.set, seed: 5).map(\.value)
    XCTAssertEqual(Set(adds).count, adds.count)
  }

  func testListAppendValuesAreUniquePerKeyAndKeysRetire() {
    var seen: [Int64: Set<Int64>] = [:]
    var lengths = Set<Int>()
    for op in ops(.listAppend, seed: 9, keys: 2, count: 2000) {
      guard case .array(let micro) = op.value else { return XCTFail("txn value \(op.value)") }
      lengths.insert(micro.count)
      for m in micro {
        guard case .array(let parts) = m, parts.count == 3, case .string(let f) = parts[0], case .int(let k) = parts[1] else {
          return XCTFail("micro-op \(m)")
        }
        if f == "append", case .int(let v) = parts[2] {
          XCTAssertTrue(seen[k, default: []].insert(v).inserted, "value \(v) appended twice to key \(k)")
        }
      }
    }
    XCTAssertEqual(lengths, [1, 2, 3, 4])
    XCTAssertGreaterThan(seen.count, 2, "keys are retired after 32 appends and fresh ones used")
    XCTAssertTrue(seen.values.allSatisfy { $0.count <= 32 })
  }

  func testBankTransfersBetweenTwoDifferentAccounts() {
    for op in ops(.bank, seed: 11, keys: 4) where op.f == "transfer" {
      guard case .object(let o) = op.value, case .int(let from) = o["from"], case .int(let to) = o["to"] else {
        return XCTFail("transfer \(op.value)")
      }
      XCTAssertNotEqual(from, to)
      XCTAssertTrue((0..<4).contains(from) && (0..<4).contains(to))
    }
  }

  func testFinalReadsCoverEveryObject() {
    XCTAssertEqual(OperationGenerator(kind: .kv, keys: 3, seed: 0).finalReads().map(\.key), ["k0", "k1", "k2"])
    XCTAssertEqual(OperationGenerator(kind: .set, seed: 0).finalReads(), [Invocation(f: "read")])
  }

  func testRequestLines() {
    XCTAssertEqual(Invocation(f: "add", value: .int(17)).requestLine, #"{"f": "add", "value": 17}"#)
    XCTAssertEqual(Invocation(f: "read").requestLine, #"{"f": "read"}"#)
    XCTAssertEqual(Invocation(f: "write", key: "k1", value: .int(5)).requestLine, #"{"f": "write", "key": "k1", "value": 5}"#)
  }
}

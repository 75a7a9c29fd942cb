import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The pure half of `duplicate` and `delay --reorder`: the fault record, the
/// mangle chain that copies packets, and the netem arguments on a kernel with netem.
final class DuplicateReorderModelTests: XCTestCase {
  let ips: [String: IPv4Address] = [
    "i001": IPv4Address("10.9.0.2")!, "i002": IPv4Address("10.9.0.3")!, "i003": IPv4Address("10.9.0.4")!,
  ]

  func duplicate(_ id: String, _ p: Double, _ targets: [String], between: [[String]]? = nil) -> Fault {
    var f = Fault(id: id, kind: .duplicate, targets: targets)
    f.duplicatePercent = p
    f.between = between
    return f
  }

  func testDuplicateCopiesToTheInstancesOwnAddressInCthulhusMangleChain() {
    var book = FaultBook()
    book.add(duplicate("f1", 30, ["i002"]))
    XCTAssertEqual(book.faults[0].summary, "duplicate 30% i002")
    let rules = NetRules.compute(book: book, ips: ips)
    XCTAssertTrue(rules["i001"]!.isEmpty)
    let r = rules["i002"]!
    XCTAssertFalse(r.isEmpty)
    XCTAssertFalse(r.hasFilter, "duplication alone needs no filter chain")
    XCTAssertEqual(
      r.mangleRestore(),
      """
      *mangle
      :CTHULHU-DUP - [0:0]
      -A CTHULHU-DUP ! -i lo -m statistic --mode random --probability 0.3000 -j TEE --gateway 10.9.0.3
      COMMIT

      """)
    XCTAssertNil(rules["i001"]!.mangleRestore())
  }

  func testALinkDuplicatesOnlyWhatComesFromTheOtherSetAnd100PercentNeedsNoDraw() {
    var book = FaultBook()
    book.add(duplicate("f1", 100, ["i001", "i002", "i003"], between: [["i001"], ["i002", "i003"]]))
    XCTAssertEqual(book.faults[0].summary, "duplicate 100% {i001} <-> {i002,i003}")
    let rules = NetRules.compute(book: book, ips: ips)
    let text = rules["i001"]!.mangleRestore()!
    XCTAssertTrue(text.contains("-A CTHULHU-DUP ! -i lo -s 10.9.0.3/32 -j TEE --gateway 10.9.0.2\n"), text)
    XCTAssertTrue(text.contains("-A CTHULHU-DUP ! -i lo -s 10.9.0.4/32 -j TEE --gateway 10.9.0.2\n"), text)
    XCTAssertEqual(rules["i003"]!.linkDuplicate, [ips["i001"]!: [100]])
  }

  func testAnIsolatedInstanceMakesNoCopiesAndAQueuedDelayHoldsThem() {
    var book = FaultBook()
    book.add(duplicate("f1", 50, ["i002"]))
    book.add(Fault(id: "f2", kind: .isolate, targets: ["i002"]))
    XCTAssertNil(NetRules.compute(book: book, ips: ips)["i002"]!.mangleRestore())

    book = FaultBook()
    book.add(duplicate("f1", 50, ["i002"]))
    var d = Fault(id: "f2", kind: .delay, targets: ["i002"])
    d.delayMs = 100
    d.delayPath = .queue
    book.add(d)
    let text = NetRules.compute(book: book, ips: ips)["i002"]!.iptablesRestore()
    XCTAssertTrue(
      text.contains("-A CTHULHU-IN -i lo -m addrtype ! --src-type LOCAL -j NFQUEUE --queue-num 51143 --queue-bypass"),
      "the copies (on lo, from a peer's address) wait as the originals do: \(text)")
  }

  func testReorderIsInTheDelayersSpecAndInNetemsArguments() {
    var d = Fault(id: "f1", kind: .delay, targets: ["i002"])
    d.delayMs = 100
    d.reorderPercent = 25
    d.delayPath = .queue
    XCTAssertEqual(d.summary, "delay 100ms reorder 25% i002")
    var book = FaultBook()
    book.add(d)
    XCTAssertEqual(NetRules.compute(book: book, ips: ips)["i002"]!.delayerPlan?.queues.first?.specs.first?.reorderPercent, 25)

    d.delayPath = .netem
    d.jitterMs = 10
    book = FaultBook()
    book.add(d)
    XCTAssertEqual(
      NetRules.compute(book: book, ips: ips)["i002"]!.qdiscArguments(),
      ["root", "handle", "c7c7:", "netem", "delay", "100.000ms", "10.000ms", "distribution", "normal", "reorder", "25%"])
  }

  func testALinkDelaysReorderReachesItsNetemLeaf() {
    var f = Fault(id: "f1", kind: .delay, targets: ["i001", "i002"])
    f.between = [["i001"], ["i002"]]
    f.delayMs = 40
    f.reorderPercent = 10
    f.delayPath = .netem
    var book = FaultBook()
    book.add(f)
    let cmds = NetRules.compute(book: book, ips: ips)["i001"]!.linkQdiscCommands(device: "eth0")!
    XCTAssertTrue(
      cmds.contains(["qdisc", "add", "dev", "eth0", "parent", "c7c7:11", "handle", "c811:", "netem", "delay", "40.000ms", "reorder", "10%"]),
      "\(cmds)")
  }

  func testRequestsCheckTheirPercentagesBeforeTheInstances() {
    let state = FixtureState(fixture: "t", root: "/nonexistent", driver: .process)
    XCTAssertThrowsError(try FaultInjector.fault(for: .duplicate(percent: 150, ["i001"]), id: "f1", state: state))
    XCTAssertThrowsError(try FaultInjector.fault(for: .delay(milliseconds: 100, jitter: nil, reorder: 101, ["i001"]), id: "f1", state: state))
    XCTAssertEqual(FaultRequest.linkDuplicate(percent: 5, between: ["i001"], and: ["i002"]).kind, .duplicate)
  }
}

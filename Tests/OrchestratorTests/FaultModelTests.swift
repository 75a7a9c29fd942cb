import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The pure half of network faults: shapes, the fault record, and the rules
/// each instance's namespace must hold.
final class FaultModelTests: XCTestCase {
  let five = ["i001", "i002", "i003", "i004", "i005"]

  func testSplitDropsEveryOtherSetAndRefusesOverlap() throws {
    let r = try PartitionShape.split([["i001"], ["i002", "i003"]])
    XCTAssertEqual(r.grudge, ["i001": ["i002", "i003"], "i002": ["i001"], "i003": ["i001"]])
    XCTAssertEqual(r.sets, [["i001"], ["i002", "i003"]])
    XCTAssertThrowsError(try PartitionShape.split([["i001", "i002"], ["i002"]])) {
      XCTAssertTrue("\($0)".contains("i002 is in two partition sets"), "\($0)")
    }
    XCTAssertThrowsError(try PartitionShape.split([["i001"], []]))
  }

  func testJepsenShapes() throws {
    XCTAssertEqual(try PartitionShape.halves.apply(to: five).sets, [["i001", "i002"], ["i003", "i004", "i005"]])
    // For even counts, halves ties; majority keeps a strict majority.
    let four = Array(five.prefix(4))
    XCTAssertEqual(try PartitionShape.halves.apply(to: four).sets, [["i001", "i002"], ["i003", "i004"]])
    XCTAssertEqual(try PartitionShape.majority.apply(to: four).sets, [["i001"], ["i002", "i003", "i004"]])
    let bridge = try PartitionShape.bridge.apply(to: five)
    XCTAssertNil(bridge.grudge["i003"], "the bridge drops nothing")
    XCTAssertEqual(bridge.grudge["i001"], ["i004", "i005"])
    XCTAssertEqual(bridge.grudge["i005"], ["i001", "i002"])
    // Ring: each sees itself and its two neighbours (a majority of 5), and no two the same set.
    let ring = try PartitionShape.majoritiesRing.apply(to: five)
    XCTAssertEqual(ring.grudge["i001"], ["i003", "i004"])
    XCTAssertEqual(ring.grudge["i003"], ["i001", "i005"])
    let views = five.map { n in Set(five).subtracting(ring.grudge[n] ?? []) }
    XCTAssertTrue(views.allSatisfy { $0.count == 3 })
    XCTAssertEqual(Set(views).count, 5)
    XCTAssertThrowsError(try PartitionShape.majority.apply(to: ["i001", "i002"]))
  }

  func testSeededShuffleRepeats() {
    var a = SeededGenerator(seed: 42)
    var b = SeededGenerator(seed: 42)
    XCTAssertEqual(five.shuffled(using: &a), five.shuffled(using: &b))
  }

  func testHealRemovesInstancesAndDropsEmptyFaults() {
    var book = FaultBook()
    var p = Fault(id: book.allocateID(), kind: .partition, targets: ["i001", "i002", "i003"])
    p.grudge = ["i001": ["i002", "i003"], "i002": ["i001"], "i003": ["i001"]]
    p.sets = [["i001"], ["i002", "i003"]]
    book.add(p)
    book.add(Fault(id: book.allocateID(), kind: .isolate, targets: ["i004"]))
    // Healing i002 keeps the cut between i001 and i003.
    XCTAssertEqual(book.heal(["i002"]).map(\.id), [])
    XCTAssertEqual(book.faults[0].grudge, ["i001": ["i003"], "i003": ["i001"]])
    XCTAssertEqual(book.faults[0].sets, [["i001"], ["i003"]])
    // Healing i001 leaves a partition with one side: it is gone.
    XCTAssertEqual(book.heal(["i001"]).map(\.id), ["f1"])
    XCTAssertEqual(book.faults.map(\.id), ["f2"])
    XCTAssertEqual(book.heal(nil).map(\.id), ["f2"])
    XCTAssertTrue(book.faults.isEmpty)
    XCTAssertEqual(book.allocateID(), "f3", "ids are never reused")
  }

  func testANewRateReplacesTheOldOneOnTheSameInstance() {
    var book = FaultBook()
    var a = Fault(id: "f1", kind: .rate, targets: ["i001", "i002"])
    a.rateBits = 1_000_000
    book.add(a)
    var b = Fault(id: "f2", kind: .rate, targets: ["i001"])
    b.rateBits = 5_000_000
    book.add(b)
    XCTAssertEqual(book.faults.map(\.targets), [["i002"], ["i001"]])
    let rules = NetRules.compute(book: book, ips: ["i001": IPv4Address("10.0.0.2")!, "i002": IPv4Address("10.0.0.3")!])
    XCTAssertEqual(rules["i001"]?.rateBits, 5_000_000)
    XCTAssertEqual(rules["i002"]?.rateBits, 1_000_000)
  }

  func testRulesTextAndQdisc() {
    var book = FaultBook()
    var p = Fault(id: "f1", kind: .partition, targets: ["i001", "i002"])
    p.grudge = ["i001": ["i002"], "i002": ["i001"]]
    book.add(p)
    var l = Fault(id: "f2", kind: .loss, targets: ["i001"])
    l.lossPercent = 25
    book.add(l)
    var d = Fault(id: "f3", kind: .delay, targets: ["i002"])
    d.delayMs = 100
    d.jitterMs = 10
    book.add(d)
    let ips = ["i001": IPv4Address("10.0.0.2")!, "i002": IPv4Address("10.0.0.3")!, "i003": IPv4Address("10.0.0.4")!]
    let rules = NetRules.compute(book: book, ips: ips)
    XCTAssertTrue(rules["i003"]!.isEmpty)
    XCTAssertEqual(
      rules["i001"]!.iptablesRestore(),
      """
      *filter
      :CTHULHU-IN - [0:0]
      :CTHULHU-OUT - [0:0]
      -A CTHULHU-IN -s 10.0.0.3/32 -j DROP
      -A CTHULHU-IN ! -i lo -m statistic --mode random --probability 0.2500 -j DROP
      COMMIT

      """)
    // A namespace without the jump yet gets it in the same transaction.
    XCTAssertTrue(
      rules["i001"]!.iptablesRestore(jumping: [NetRules.Jump(builtin: "OUTPUT", chain: "CTHULHU-OUT")]).hasSuffix(
        "-j DROP\n-I OUTPUT 1 -j CTHULHU-OUT\nCOMMIT\n"))
    XCTAssertNil(rules["i001"]!.qdiscArguments())
    XCTAssertEqual(
      rules["i002"]!.qdiscArguments(),
      ["root", "handle", "c7c7:", "netem", "delay", "100.000ms", "10.000ms", "distribution", "normal"])
    var r = NetRules()
    r.rateBits = 1_000_000
    XCTAssertEqual(r.qdiscArguments(), ["root", "handle", "c7c7:", "tbf", "rate", "1000000bit", "burst", "4096", "latency", "200ms"])
  }

  func testAQueuedDelayIsAnNFQueueRuleAndLeavesTheQdiscToTheRate() {
    var book = FaultBook()
    var d = Fault(id: "f1", kind: .delay, targets: ["i001"])
    d.delayMs = 300
    d.jitterMs = 150
    d.delayPath = .queue
    book.add(d)
    var r = Fault(id: "f2", kind: .rate, targets: ["i001"])
    r.rateBits = 1_000_000
    book.add(r)
    let i = Fault(id: "f3", kind: .isolate, targets: ["i001"])
    book.add(i)
    let rules = NetRules.compute(book: book, ips: ["i001": IPv4Address("10.0.0.2")!])["i001"]!
    XCTAssertTrue(rules.needsDelayer)
    XCTAssertEqual(
      rules.iptablesRestore(),
      """
      *filter
      :CTHULHU-IN - [0:0]
      :CTHULHU-OUT - [0:0]
      -A CTHULHU-IN ! -i lo -j DROP
      -A CTHULHU-OUT ! -o lo -j DROP
      -A CTHULHU-IN ! -i lo -j NFQUEUE --queue-num 51143 --queue-bypass
      COMMIT

      """)
    XCTAssertEqual(rules.qdiscArguments(), ["root", "handle", "c7c7:", "tbf", "rate", "1000000bit", "burst", "4096", "latency", "200ms"])
    let spec = rules.delayerSpec!
    XCTAssertEqual(spec.delayMs, 300)
    XCTAssertEqual(spec.jitterMs, 150)
    // The same fault on the same instance draws the same delays; another instance others.
    let again = NetRules.compute(book: book, ips: ["i001": IPv4Address("10.0.0.2")!, "i002": IPv4Address("10.0.0.3")!])
    XCTAssertEqual(again["i001"]!.delaySeed, rules.delaySeed)
    XCTAssertNotEqual(PacketDelayerProcess.seed(fault: "f1", instance: "i002"), rules.delaySeed)
    // Uniform jitter: netem's own default; the delayer is told.
    var u = book
    u.faults[0].jitterDistribution = .uniform
    let ur = NetRules.compute(book: u, ips: ["i001": IPv4Address("10.0.0.2")!])["i001"]!
    XCTAssertEqual(ur.delayerSpec?.distribution, .uniform)
    XCTAssertEqual(u.faults[0].summary, "delay 300ms ±150ms (uniform) i001")
    var un = ur
    un.delayQueued = false
    XCTAssertEqual(un.qdiscArguments()?.prefix(7), ["root", "handle", "c7c7:", "netem", "delay", "300.000ms", "150.000ms"])
    XCTAssertFalse(un.qdiscArguments()!.contains("distribution"))
    // A record from before the queue path (no delayPath) means netem.
    d.delayPath = nil
    var old = FaultBook()
    old.add(d)
    XCTAssertFalse(NetRules.compute(book: old, ips: ["i001": IPv4Address("10.0.0.2")!])["i001"]!.needsDelayer)
  }

  func testRateParsingAndSummaries() {
    XCTAssertEqual(Units.bitRate("10mbit"), 10_000_000)
    XCTAssertEqual(Units.bitRate("512kbit"), 512_000)
    XCTAssertEqual(Units.bitRate("1mbps"), 8_000_000)
    XCTAssertEqual(Units.bitRate("1.5Gbit"), 1_500_000_000)
    for bad in ["", "10", "mbit", "-1mbit", "0kbit", "10 mbit", "fast"] { XCTAssertNil(Units.bitRate(bad), bad) }
    XCTAssertEqual(Units.duration("1.5s")?.milliseconds, 1500)
    var f = Fault(id: "f1", kind: .rate, targets: ["i001", "i002"])
    f.rateBits = 2_000_000
    XCTAssertEqual(f.summary, "rate 2mbit i001,i002")
    f = Fault(id: "f2", kind: .loss, targets: ["i003"])
    f.lossPercent = 12.5
    XCTAssertEqual(f.summary, "loss 12.5% i003")
  }

  func testBookRoundTripsAndExpiry() throws {
    let root = NSTemporaryDirectory() + "cthulhu-book-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: root) }
    var book = FaultBook()
    var f = Fault(id: book.allocateID(), kind: .isolate, targets: ["i001"])
    f.expiresAt = Date().addingTimeInterval(-1)
    book.add(f)
    book.add(Fault(id: book.allocateID(), kind: .isolate, targets: ["i002"]))
    try book.save(root: root)
    let back = try FaultBook.load(root: root)
    XCTAssertEqual(back.faults.map(\.id), ["f1", "f2"])
    XCTAssertEqual(back.expired(at: Date()).map(\.id), ["f1"])
    try "{".write(toFile: root + "/.cthulhu/faults.json", atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try FaultBook.load(root: root)) { XCTAssertTrue("\($0)".contains("faults.json"), "\($0)") }
  }

  func testRemovalOfCthulhusChainsIsOneTransactionOfWhatIsListed() {
    let saved = """
      # Generated by iptables-nft-save v1.8.9
      *mangle
      :PREROUTING ACCEPT [0:0]
      :CTHULHU-DUP - [0:0]
      -A PREROUTING -j CTHULHU-DUP
      -A CTHULHU-DUP ! -i lo -j TEE --gateway 10.9.0.3
      COMMIT
      *filter
      :INPUT ACCEPT [0:0]
      :CTHULHU-IN - [0:0]
      :MINE - [0:0]
      -A INPUT -j CTHULHU-IN
      -A INPUT -j MINE
      -A INPUT -j CTHULHU-IN
      -A CTHULHU-IN -s 10.9.0.3/32 -j DROP
      COMMIT
      """
    let found = NetFaultEnforcer.cthulhuRules(in: saved)
    let filter = found["filter"]!
    XCTAssertEqual(filter.jumps, [NetRules.Jump(builtin: "INPUT", chain: "CTHULHU-IN", count: 2)])
    XCTAssertEqual(filter.chains, ["CTHULHU-IN"])
    XCTAssertEqual(found["mangle"], .init(jumps: [NetRules.Jump(builtin: "PREROUTING", chain: "CTHULHU-DUP")], chains: ["CTHULHU-DUP"]))
    XCTAssertEqual(
      NetFaultEnforcer.removal(table: "filter", jumps: filter.jumps, chains: filter.chains),
      "*filter\n-D INPUT -j CTHULHU-IN\n-D INPUT -j CTHULHU-IN\n-F CTHULHU-IN\n-X CTHULHU-IN\nCOMMIT\n")
    XCTAssertTrue(NetFaultEnforcer.cthulhuRules(in: "*filter\n:INPUT ACCEPT [0:0]\n:MINE - [0:0]\n-A INPUT -j MINE\nCOMMIT\n").isEmpty)
    let qdiscs = """
      qdisc noqueue 0: dev lo root refcnt 2
      qdisc tbf c7c7: dev eth0 root refcnt 2 rate 1Mbit burst 4Kb lat 200ms
      qdisc netem 10: dev eth0 parent c7c7:1 limit 1000
      qdisc tbf c7c7: dev veth9 parent 1: rate 1Mbit
      """
    XCTAssertEqual(NetFaultEnforcer.devices(withRootHandle: "c7c7:", in: qdiscs), ["eth0"])
  }
}

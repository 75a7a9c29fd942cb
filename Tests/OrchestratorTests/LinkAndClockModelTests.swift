import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The pure half of link faults (`delay|loss --between A --and B`) and clock
/// skew: the fault record, the rules each end holds on either delay path,
/// and what a clock_skew instance is started with.
final class LinkAndClockModelTests: XCTestCase {
  let ips: [String: IPv4Address] = [
    "i001": IPv4Address("10.9.0.2")!, "i002": IPv4Address("10.9.0.3")!, "i003": IPv4Address("10.9.0.4")!,
    "i004": IPv4Address("10.9.0.5")!,
  ]

  func link(_ id: String, _ kind: Fault.Kind, _ a: [String], _ b: [String], path: Fault.DelayPath? = .queue) -> Fault {
    var f = Fault(id: id, kind: kind, targets: (a + b).sorted())
    f.between = [a, b]
    f.delayPath = kind == .delay ? path : nil
    return f
  }

  func testALinkDelayHoldsOnlyThePacketsBetweenTheSetsBothWays() {
    var f = link("f1", .delay, ["i001"], ["i003", "i004"])
    f.delayMs = 80
    var book = FaultBook()
    book.add(f)
    XCTAssertEqual(f.summary, "delay 80ms {i001} <-> {i003,i004}")
    let rules = NetRules.compute(book: book, ips: ips)
    // i001 holds what arrives from i003 and i004; each of them what arrives from i001; i002 nothing.
    XCTAssertEqual(Set(rules["i001"]!.links.keys), [ips["i003"]!, ips["i004"]!])
    XCTAssertEqual(Set(rules["i003"]!.links.keys), [ips["i001"]!])
    XCTAssertTrue(rules["i002"]!.isEmpty)
    let text = rules["i001"]!.iptablesRestore()
    XCTAssertTrue(text.contains("-A CTHULHU-IN -s 10.9.0.4/32 -j NFQUEUE --queue-num 51144 --queue-bypass"), text)
    XCTAssertTrue(text.contains("-A CTHULHU-IN -s 10.9.0.5/32 -j NFQUEUE --queue-num 51144 --queue-bypass"), text)
    XCTAssertFalse(text.contains("51143"), "no instance-wide queue without an instance delay: \(text)")
    XCTAssertEqual(rules["i001"]!.delayerPlan?.queues.map(\.number), [51144])
    XCTAssertEqual(rules["i001"]!.delayerPlan?.queues.first?.specs.map(\.delayMs), [80])
    XCTAssertNil(rules["i001"]!.qdiscArguments(), "the queue path needs no qdisc")
    XCTAssertNil(rules["i001"]!.linkQdiscCommands(device: "eth0"))
  }

  func testALatencyMatrixGivesEachLinkItsQueueAndAddsTheInstancesOwnDelay() {
    var a = link("f1", .delay, ["i001"], ["i003"])
    a.delayMs = 80
    var b = link("f2", .delay, ["i002"], ["i003"])
    b.delayMs = 20
    b.jitterMs = 5
    var own = Fault(id: "f3", kind: .delay, targets: ["i003"])
    own.delayMs = 50
    own.delayPath = .queue
    var book = FaultBook()
    for f in [a, b, own] { book.add(f) }
    XCTAssertEqual(book.faults.count, 3, "an instance delay does not replace a link delay, nor one link another")
    let r = NetRules.compute(book: book, ips: ips)["i003"]!
    let text = r.iptablesRestore()
    let lines = text.split(separator: "\n").map(String.init)
    let own51143 = lines.firstIndex { $0.contains("--queue-num 51143") }!
    let fromI001 = lines.firstIndex { $0.contains("-s 10.9.0.2/32 -j NFQUEUE --queue-num 51144") }!
    let fromI002 = lines.firstIndex { $0.contains("-s 10.9.0.3/32 -j NFQUEUE --queue-num 51145") }!
    XCTAssertLessThan(max(fromI001, fromI002), own51143, "link queues come before the instance-wide one: \(text)")
    let plan = r.delayerPlan!
    XCTAssertEqual(plan.queues.map(\.number), [51143, 51144, 51145])
    XCTAssertEqual(plan.queues[1].specs.map(\.delayMs), [50, 80], "a link packet waits the instance's delay and the link's")
    XCTAssertEqual(plan.queues[2].specs.map(\.jitterMs), [0, 5])
  }

  func testTheLaterLinkDelayCountsAndReplacesOnesItCoversWhole() {
    var wide = link("f1", .delay, ["i001", "i002"], ["i003"])
    wide.delayMs = 100
    var narrow = link("f2", .delay, ["i001"], ["i003"])
    narrow.delayMs = 10
    var book = FaultBook()
    book.add(wide)
    book.add(narrow)
    XCTAssertEqual(book.faults.map(\.id), ["f1", "f2"], "f2 covers part of f1 only")
    let r = NetRules.compute(book: book, ips: ips)
    XCTAssertEqual(r["i003"]!.links[ips["i001"]!]?.delayMs, 10)
    XCTAssertEqual(r["i003"]!.links[ips["i002"]!]?.delayMs, 100)
    var again = link("f3", .delay, ["i003"], ["i002", "i001"])
    again.delayMs = 30
    book.add(again)
    XCTAssertEqual(book.faults.map(\.id), ["f3"], "f3 covers every pair of f1 and f2")
  }

  func testHealNarrowsALinkAndLiftsItWhenASideIsEmpty() {
    var f = link("f1", .loss, ["i001", "i002"], ["i003"])
    f.lossPercent = 30
    var book = FaultBook()
    book.add(f)
    let r = NetRules.compute(book: book, ips: ips)
    XCTAssertEqual(r["i003"]!.linkLoss, [ips["i001"]!: [30], ips["i002"]!: [30]])
    XCTAssertTrue(
      r["i001"]!.iptablesRestore().contains("-A CTHULHU-IN -s 10.9.0.4/32 -m statistic --mode random --probability 0.3000 -j DROP"))
    XCTAssertTrue(r["i003"]!.hasFilter)
    var narrowed = book
    XCTAssertTrue(narrowed.heal(["i002"]).isEmpty)
    XCTAssertEqual(narrowed.faults.first?.between, [["i001"], ["i003"]])
    XCTAssertEqual(narrowed.faults.first?.summary, "loss 30% {i001} <-> {i003}")
    XCTAssertEqual(narrowed.heal(["i003"]).map(\.id), ["f1"], "no one left on one side: the link is gone")
    XCTAssertTrue(narrowed.faults.isEmpty)
  }

  func testOnNetemALinkIsAnHtbLeafWithItsOwnNetemAndAFilterPerPeer() throws {
    var f = link("f1", .delay, ["i001"], ["i003", "i004"], path: .netem)
    f.delayMs = 80
    f.jitterMs = 10
    var own = Fault(id: "f2", kind: .delay, targets: ["i001"])
    own.delayMs = 20
    own.delayPath = .netem
    var rate = Fault(id: "f3", kind: .rate, targets: ["i001"])
    rate.rateBits = 1_000_000
    var book = FaultBook()
    for x in [f, own, rate] { book.add(x) }
    let r = NetRules.compute(book: book, ips: ips)["i001"]!
    XCTAssertFalse(r.needsDelayer)
    XCTAssertFalse(r.iptablesRestore().contains("NFQUEUE"))
    let cmds = try XCTUnwrap(r.linkQdiscCommands(device: "eth0")).map { $0.joined(separator: " ") }
    let shape = "htb rate 1000000bit ceil 1000000bit burst 4096 quantum 60000"
    XCTAssertEqual(
      cmds,
      [
        "qdisc add dev eth0 root handle c7c7: htb default 10",
        "class add dev eth0 parent c7c7: classid c7c7:1 \(shape)",
        "class add dev eth0 parent c7c7:1 classid c7c7:10 \(shape)",
        "qdisc add dev eth0 parent c7c7:10 handle c810: netem delay 20.000ms",
        "class add dev eth0 parent c7c7:1 classid c7c7:11 \(shape)",
        "qdisc add dev eth0 parent c7c7:11 handle c811: netem delay 100.000ms 10.000ms distribution normal",
        "filter add dev eth0 parent c7c7: protocol ip prio 1 u32 match ip dst 10.9.0.4/32 flowid c7c7:11",
        "filter add dev eth0 parent c7c7: protocol ip prio 1 u32 match ip dst 10.9.0.5/32 flowid c7c7:11",
      ])
    // The other end: the link alone, everything else unshaped at 10gbit.
    let far = try XCTUnwrap(NetRules.compute(book: book, ips: ips)["i003"]!.linkQdiscCommands(device: "eth0"))
    XCTAssertEqual(
      far[1].joined(separator: " "),
      "class add dev eth0 parent c7c7: classid c7c7:1 htb rate 10000000000bit ceil 10000000000bit burst 12500000 quantum 60000")
    XCTAssertEqual(
      far[3].joined(separator: " "),
      "class add dev eth0 parent c7c7:1 classid c7c7:11 htb rate 10000000000bit ceil 10000000000bit burst 12500000 quantum 60000")
    XCTAssertEqual(far[4].joined(separator: " "), "qdisc add dev eth0 parent c7c7:11 handle c811: netem delay 80.000ms 10.000ms distribution normal")
    XCTAssertEqual(far.count, 6)
  }

  func testAClockSkewIsAFaultThatChangesNoNetworkRule() {
    var f = Fault(id: "f1", kind: .clock, targets: ["i002"])
    f.skewSeconds = -90
    var book = FaultBook()
    book.add(f)
    XCTAssertEqual(f.summary, "clock -90s i002")
    f.skewSeconds = -7200
    XCTAssertEqual(f.summary, "clock -2h i002")
    f.skewSeconds = -90
    XCTAssertTrue(NetRules.compute(book: book, ips: ips).values.allSatisfy(\.isEmpty))
    var later = Fault(id: "f2", kind: .clock, targets: ["i002", "i003"])
    later.skewSeconds = 5
    book.add(later)
    XCTAssertEqual(book.faults.map(\.id), ["f2"], "a second skew replaces the first")
    XCTAssertEqual(ClockSkew.offsets(book: book), ["i002": 5, "i003": 5])
  }

  func testClockOffsetsParseAndWriteAsLibfaketimeReadsThem() {
    XCTAssertEqual(ClockSkew.parse("+5s"), 5)
    XCTAssertEqual(ClockSkew.parse("-250ms"), -0.25)
    XCTAssertEqual(ClockSkew.parse("2m"), 120)
    XCTAssertEqual(ClockSkew.parse("-1.5h"), -5400)
    for bad in ["", "+", "five", "+-5s", "--5s", "5"] { XCTAssertNil(ClockSkew.parse(bad), bad) }
    XCTAssertEqual(ClockSkew.fileLine(-0.25), "-0.250000\n")
    XCTAssertEqual(ClockSkew.fileLine(3600), "+3600.000000\n")
    XCTAssertEqual(ClockSkew.text(-1.5), "-1.5s")
    XCTAssertEqual(ClockSkew.text(3600), "+1h")
    XCTAssertEqual(ClockSkew.text(-5400), "-90m")
    XCTAssertEqual(ClockSkew.text(-90), "-90s")
    XCTAssertEqual(ClockSkew.text(0.25), "+250ms")
    XCTAssertEqual(ClockSkew.text(0), "+0s")
  }

  func testAClockSkewGroupStartsWithLibfaketimePreloaded() throws {
    let host = ClockSkew.preload(
      library: "/usr/lib/x/libfaketimeMT.so.1", clockFolder: "/f/10.9.0.2/clock", container: false, env: ["A=1", "LD_PRELOAD=/mine.so"])
    XCTAssertTrue(host.env.contains("LD_PRELOAD=/usr/lib/x/libfaketimeMT.so.1 /mine.so"), "\(host.env)")
    XCTAssertTrue(host.env.contains("FAKETIME_TIMESTAMP_FILE=/f/10.9.0.2/clock/faketime"))
    XCTAssertTrue(host.env.contains("FAKETIME_NO_CACHE=1"))
    XCTAssertTrue(host.env.contains("FAKETIME_DONT_FAKE_MONOTONIC=1"))
    XCTAssertTrue(host.binds.isEmpty)
    let shared = try XCTUnwrap(ClockSkew.sharedNames(env: host.env))
    XCTAssertTrue(shared.sem.hasPrefix("/cthulhu-faketime-"), shared.sem)
    let box = ClockSkew.preload(library: "/usr/lib/x/libfaketimeMT.so.1", clockFolder: "/f/10.9.0.2/clock", container: true, env: [])
    XCTAssertTrue(box.env.contains("LD_PRELOAD=/run/cthulhu-faketime/libfaketimeMT.so.1"))
    XCTAssertTrue(box.env.contains("FAKETIME_TIMESTAMP_FILE=/run/cthulhu-clock/faketime"))
    XCTAssertNil(ClockSkew.sharedNames(env: box.env), "not a pair the host makes: the container's own /dev/shm")
    XCTAssertTrue(box.env.contains("FAKETIME_SHARED=/cthulhu-faketime /cthulhu-faketime"), "\(box.env)")
    XCTAssertEqual(
      box.binds,
      [
        Bind(host: "/usr/lib/x/libfaketimeMT.so.1", container: "/run/cthulhu-faketime/libfaketimeMT.so.1", readOnly: true),
        Bind(host: "/f/10.9.0.2/clock", container: "/run/cthulhu-clock", readOnly: true),
        Bind(host: "/f/10.9.0.2/clock/faketime.sem", container: "/dev/shm/sem.cthulhu-faketime"),
        Bind(host: "/f/10.9.0.2/clock/faketime.shm", container: "/dev/shm/cthulhu-faketime"),
      ])
  }

  func testELFTellsAStaticProgramFromADynamicOne() throws {
    XCTAssertEqual(ELF.isDynamic(path: "/bin/sh"), true)
    if FileManager.default.fileExists(atPath: "/bin/busybox") {
      XCTAssertEqual(ELF.isDynamic(path: "/bin/busybox"), false, "Debian's busybox-static")
    }
    XCTAssertNil(ELF.isDynamic(path: "/etc/passwd"))
  }
}

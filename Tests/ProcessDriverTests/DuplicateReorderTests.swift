import Foundation
import Orchestrator
import TestSupport
import XCTest

/// `duplicate` and `delay --reorder` on the process driver's namespaces
/// mode, through the built binary, counted with numbered UDP datagrams: every
/// instance runs a small receiver that appends each datagram it gets to a
/// file, and `cthulhu exec i001` sends them to i002.
final class DuplicateReorderTests: FixtureTestCase {
  let python = "/usr/bin/python3"

  override func setUp() async throws {
    try Host.requireRoot()
    try Host.require(FileManager.default.isExecutableFile(atPath: python), "python3 is not installed at /usr/bin/python3")
    try makeFolder("dup")
    // The receiver: one line per datagram, as it arrives, with the moment it did.
    try """
    import socket, sys, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", 9999))
    out = open(sys.argv[1], "a", buffering=1)
    while True:
        data, _ = s.recvfrom(256)
        out.write("%s %.6f\\n" % (data.decode(), time.time()))

    """.write(toFile: dir + "/recv.py", atomically: true, encoding: .utf8)
    // The sender: COUNT datagrams "TAG SEQ SENT-AT", one every 0.5 ms.
    try """
    import socket, sys, time
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(int(sys.argv[3])):
        s.sendto(("%s %d %.6f" % (sys.argv[2], i, time.time())).encode(), (sys.argv[1], 9999))
        time.sleep(0.0005)

    """.write(toFile: dir + "/send.py", atomically: true, encoding: .utf8)
    try """
    fixture: \(fixture)
    driver: process
    network: { mode: namespaces }
    groups:
      node:
        count: 2
        command: ["\(python)", "\(dir)/recv.py", "\(dir)/received.txt"]
        stop_timeout: 1s
    nemesis:
      faults:
        - duplicate: 100%
          targets: i002
          for: 1m
        - delay: 100ms
          reorder: 25%
          targets: i002
          for: 1m

    """.write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    try mustSucceed("apply")
  }

  /// The datagrams tagged `tag` that i002 received, in order of arrival:
  /// sequence number and seconds from sending to arrival (one host clock).
  func arrivals(_ tag: String) -> [(seq: Int, took: Double)] {
    let text = (try? String(contentsOfFile: dir + "/received.txt", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { line in
      let f = line.split(separator: " ")
      guard f.count == 4, f[0] == tag, let seq = Int(f[1]), let sent = Double(f[2]), let got = Double(f[3]) else { return nil }
      return (seq, got - sent)
    }
  }

  /// The sequence numbers of the datagrams tagged `tag` that i002 received, in order of arrival.
  func received(_ tag: String) -> [Int] { arrivals(tag).map(\.seq) }

  /// Sends `count` datagrams tagged `tag` from i001 to i002 and returns what
  /// arrived once nothing more has come for a second (the receivers run
  /// from apply on, so the first datagram is never lost to a late bind).
  func send(_ tag: String, count: Int) async throws -> [Int] {
    try mustSucceed("exec", "--fixture", root, "i001", "--", python, dir + "/send.py", try ip("i002"), tag, "\(count)")
    var last = -1
    var stableSince = Date()
    try await Host.eventually("the datagrams tagged \(tag) stop arriving", within: 30) {
      let n = self.received(tag).count
      if n != last {
        last = n
        stableSince = Date()
      }
      return n > 0 && Date().timeIntervalSince(stableSince) > 1
    }
    return received(tag)
  }

  /// Datagrams that arrived ahead of a lower-numbered one (they overtook it).
  func overtaking(_ seqs: [Int]) -> Int {
    var lowest = Int.max
    var n = 0
    for s in seqs.reversed() {
      if s > lowest { n += 1 }
      lowest = min(lowest, s)
    }
    return n
  }

  /// Adjacent pairs that arrived out of order.
  func inversions(_ seqs: [Int]) -> Int { zip(seqs, seqs.dropFirst()).filter { $0.0 > $0.1 }.count }

  func mangle() throws -> String { try mustSucceed("exec", "--fixture", root, "i002", "--", "iptables-save", "-t", "mangle") }

  func testDuplicateDeliversAShareTwiceAndHealStopsIt() async throws {
    let clean = try await send("before", count: 1000)
    XCTAssertEqual(clean.count, 1000, "without a fault every datagram arrives once")
    XCTAssertEqual(Set(clean).count, 1000)

    let out = try mustSucceed("duplicate", "50%", "i002")
    XCTAssertTrue(out.hasPrefix("f1: duplicate 50% i002"), out)
    XCTAssertTrue(try mangle().contains("-j TEE --gateway \(try ip("i002"))"))
    XCTAssertTrue(try mustSucceed("faults").contains("duplicate 50% i002"))
    let doubled = try await send("during", count: 1000)
    let extra = doubled.count - Set(doubled).count
    // Binomial(1000, 0.5): mean 500, σ ≈ 16; 420…580 is five σ either way.
    XCTAssertEqual(Set(doubled).count, 1000, "every datagram arrives at least once")
    XCTAssertTrue((420...580).contains(extra), "duplicate 50% of 1000 datagrams gave \(extra) extra")
    print("duplicate 50%: \(doubled.count) datagrams arrived for 1000 sent (\(extra) duplicates)")

    try mustSucceed("heal")
    XCTAssertFalse(try mangle().contains("CTHULHU"), "heal left cthulhu's mangle chain")
    let after = try await send("after", count: 1000)
    XCTAssertEqual(after.count, 1000, "after heal no datagram arrives twice")

    // --for: the reaper lifts it, and the timeline has it all.
    try mustSucceed("duplicate", "100%", "i002", "--for", "3s")
    XCTAssertTrue(try mangle().contains("CTHULHU-DUP"))
    // The rules go first, then the record, then its event.
    try await Host.eventually("the duplication ends with its --for", within: 20) {
      ((try? String(contentsOfFile: self.root + "/events.jsonl", encoding: .utf8)) ?? "").contains("\"action\":\"expire f2\"")
    }
    XCTAssertFalse(try mangle().contains("CTHULHU"), "the expired duplication left its chain")
    let events = try String(contentsOfFile: root + "/events.jsonl", encoding: .utf8)
    for wanted in ["\"action\":\"duplicate f1\"", "duplicate 50% i002"] {
      XCTAssertTrue(events.contains(wanted), "no \(wanted) in events.jsonl")
    }
  }

  func testDuplicateOnALinkOnlyAndUnderAPartitionNone() async throws {
    try mustSucceed("duplicate", "100%", "--between", "i001", "--and", "i002")
    let both = try await send("link", count: 200)
    XCTAssertEqual(both.count, 400, "duplicate 100% on the link delivers each datagram twice")
    // A partition drops the copies too: they carry the sender's address.
    try mustSucceed("partition", "i001", "i002")
    _ = try mustSucceed("exec", "--fixture", root, "i001", "--", python, dir + "/send.py", try ip("i002"), "cut", "200")
    try mustSucceed("heal")
    // What is sent after the heal arrives; a datagram of "cut" that the
    // partition let through would have arrived before it (the rules drop
    // packets, they hold none back), so no waiting for nothing.
    let after = try await send("after-cut", count: 20)
    XCTAssertEqual(after.count, 20, "after the heal (of the duplication too) every datagram arrives once")
    XCTAssertEqual(received("cut").count, 0, "a partition let datagrams or their copies through")
  }

  func testCopiesWaitForAQueuedDelayAsTheOriginalsDo() async throws {
    // The queue path (a kernel without netem takes it by itself).
    try mustSucceed("delay", "--path", "queue", "100ms", "i002")
    try mustSucceed("duplicate", "100%", "i002")
    let rules = try mustSucceed("exec", "--fixture", root, "i002", "--", "iptables-save")
    XCTAssertTrue(rules.contains("-i lo -m addrtype ! --src-type LOCAL -j NFQUEUE --queue-num 51143 --queue-bypass"), rules)
    let both = try await send("held", count: 200)
    XCTAssertEqual(both.count, 400, "every datagram and its copy arrive")
    XCTAssertEqual(Set(both).count, 200)
    // The copies too wait the delay: none arrives within 90 ms of its sending.
    let fastest = arrivals("held").map(\.took).min() ?? 0
    XCTAssertGreaterThanOrEqual(fastest, 0.09, "with delay 100ms a datagram or its copy arrived after \(fastest) s")
    try mustSucceed("heal")
  }

  func testTheNemesisDuplicatesAndReordersAndStopHealsBoth() async throws {
    XCTAssertTrue(try mustSucceed("nemesis", "start").hasPrefix("nemesis started"))
    try await Host.eventually("both steps are in force", within: 20) {
      let listed = try self.mustSucceed("faults")
      return listed.contains("duplicate 100% i002 (nemesis)") && listed.contains("delay 100ms reorder 25% i002 (nemesis)")
    }
    let both = try await send("nemesis", count: 200)
    XCTAssertEqual(both.count, 400, "every datagram and its copy arrive")
    XCTAssertGreaterThan(inversions(both), 0, "reorder 25% let nothing overtake")
    XCTAssertTrue(try mustSucceed("nemesis", "stop").hasPrefix("nemesis stopped; healed: "))
    XCTAssertFalse(try mangle().contains("CTHULHU"), "nemesis stop left the duplication")
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
  }

  func testReorderLetsAShareOvertakeAndPlainDelayKeepsTheOrder() async throws {
    try mustSucceed("delay", "100ms", "i002")
    let steady = try await send("steady", count: 300)
    XCTAssertEqual(steady.count, 300)
    XCTAssertEqual(inversions(steady), 0, "a delay without jitter or reorder keeps the order")

    let out = try mustSucceed("delay", "100ms", "--reorder", "25%", "i002")
    XCTAssertTrue(out.contains("reorder 25%"), out)
    let shuffled = try await send("reorder", count: 300)
    XCTAssertEqual(Set(shuffled).count, 300, "reordering loses nothing")
    // A quarter goes at once, past the ~200 held within the last 100 ms: dozens of inversions (none could come by luck).
    let inv = inversions(shuffled)
    XCTAssertGreaterThan(inv, 10, "delay 100ms --reorder 25%: \(inv) inversions")
    print("delay 100ms --reorder 25%: \(inv) adjacent inversions, \(overtaking(shuffled)) of 300 datagrams overtook an earlier one")
    try mustSucceed("heal")
  }
}

import XCTest

@testable import cthulhu_demo

/// An in-memory cluster of `Raft` state machines: messages are delivered at
/// once unless their link is cut, and time moves only when a test says so.
struct Cluster {
  var nodes: [String: Raft] = [:]
  var now = ContinuousClock.now
  /// Links that drop every message, both ways.
  var cut: Set<[String]> = []
  /// Every (term, leader) pair ever seen, to check there is one leader a term.
  var leaders: [Int: Set<String>] = [:]

  init(size: Int, seed: UInt64) {
    let names = (1...size).map { "n\($0)" }
    for (i, name) in names.enumerated() {
      nodes[name] = Raft(
        me: name, members: names, electionTimeout: .milliseconds(150)...(.milliseconds(300)),
        heartbeat: .milliseconds(50), seed: seed &* 31 &+ UInt64(i), now: now)
    }
  }

  var names: [String] { nodes.keys.sorted() }
  func leaders(among group: [String]? = nil) -> [String] {
    (group ?? names).filter { nodes[$0]?.role == .leader }
  }

  mutating func partition(_ side: [String]) {
    for a in side { for b in names where !side.contains(b) { cut.insert([a, b].sorted()) } }
  }

  mutating func heal() { cut = [] }

  /// Moves time on in 10 ms steps, delivering what each tick sends.
  mutating func run(for duration: Duration) {
    let end = now + duration
    while now < end {
      now += .milliseconds(10)
      for name in names { deliver(from: name, nodes[name]!.tick(now: now)) }
    }
  }

  /// Hands `actions` to their targets and their answers back, until quiet.
  mutating func deliver(from sender: String, _ actions: [Raft.Action]) {
    var queue = actions.map { (sender, $0) }
    while !queue.isEmpty {
      let (from, action) = queue.removeFirst()
      switch action {
      case .requestVote(let to, let request):
        guard !cut.contains([from, to].sorted()) else { continue }
        let response = nodes[to]!.handle(request, now: now)
        queue += nodes[from]!.handle(from: to, response, now: now).map { (from, $0) }
      case .append(let to, let request):
        guard !cut.contains([from, to].sorted()) else { continue }
        let response = nodes[to]!.handle(request, now: now)
        queue += nodes[from]!.handle(from: to, response, now: now).map { (from, $0) }
      }
      for (name, node) in nodes where node.role == .leader { leaders[node.term, default: []].insert(name) }
    }
  }

  mutating func propose(_ value: String, at leader: String) -> Int? {
    guard let (index, actions) = nodes[leader]!.propose(value) else { return nil }
    deliver(from: leader, actions)
    return index
  }
}

final class RaftTests: XCTestCase {
  func testOneLeaderPerTermAndTheClusterAgreesOnIt() {
    for seed in UInt64(1)...30 {
      for size in [1, 3, 5] {
        var cluster = Cluster(size: size, seed: seed)
        cluster.run(for: .seconds(3))
        XCTAssertEqual(cluster.leaders().count, 1, "seed \(seed), size \(size)")
        for (term, names) in cluster.leaders {
          XCTAssertEqual(names.count, 1, "seed \(seed), size \(size): term \(term) had leaders \(names)")
        }
        let leader = cluster.leaders().first
        for node in cluster.nodes.values { XCTAssertEqual(node.leader, leader, "seed \(seed): \(node.me)") }
      }
    }
  }

  func testVotesOncePerTerm() {
    var voter = Raft(
      me: "a", members: ["a", "b", "c"], electionTimeout: .seconds(1)...(.seconds(2)), heartbeat: .milliseconds(100),
      seed: 1, now: .now)
    let ask = { (candidate: String, term: Int) in
      VoteRequest(term: term, candidate: candidate, lastLogIndex: 0, lastLogTerm: 0)
    }
    XCTAssertTrue(voter.handle(ask("b", 1), now: .now).granted)
    XCTAssertTrue(voter.handle(ask("b", 1), now: .now).granted, "the same candidate asking again")
    XCTAssertFalse(voter.handle(ask("c", 1), now: .now).granted, "a second candidate in the same term")
    XCTAssertTrue(voter.handle(ask("c", 2), now: .now).granted, "a new term frees the vote")
    XCTAssertEqual(voter.handle(ask("b", 1), now: .now), VoteResponse(term: 2, granted: false))
  }

  func testRefusesCandidatesWithAnOlderLog() {
    var voter = Raft(
      me: "a", members: ["a", "b", "c"], electionTimeout: .seconds(1)...(.seconds(2)), heartbeat: .milliseconds(100),
      seed: 1, now: .now)
    let entries = [Entry(term: 1, value: nil), Entry(term: 2, value: "x")]
    let append = AppendRequest(term: 2, leader: "b", prevIndex: 0, prevTerm: 0, entries: entries, leaderCommit: 0)
    XCTAssertTrue(voter.handle(append, now: .now).success)
    let stale = VoteRequest(term: 3, candidate: "c", lastLogIndex: 5, lastLogTerm: 1)
    XCTAssertFalse(voter.handle(stale, now: .now).granted, "a longer log of an older term is not up to date")
    let short = VoteRequest(term: 3, candidate: "c", lastLogIndex: 1, lastLogTerm: 2)
    XCTAssertFalse(voter.handle(short, now: .now).granted, "a shorter log of the same term is not up to date")
    let current = VoteRequest(term: 3, candidate: "c", lastLogIndex: 2, lastLogTerm: 2)
    XCTAssertTrue(voter.handle(current, now: .now).granted)
  }

  func testHeartbeatNowReachesEveryPeerOnlyFromTheLeader() throws {
    var cluster = Cluster(size: 3, seed: 11)
    cluster.run(for: .seconds(2))
    let leader = try XCTUnwrap(cluster.leaders().first)
    let actions = cluster.nodes[leader]!.heartbeatNow(now: cluster.now)
    let targets = actions.compactMap { action -> String? in
      if case .append(let to, let request) = action, request.term == cluster.nodes[leader]!.term { return to }
      return nil
    }
    XCTAssertEqual(targets.sorted(), cluster.names.filter { $0 != leader })
    XCTAssertEqual(cluster.nodes[leader]!.tick(now: cluster.now), [], "the heartbeat just sent resets the timer")
    let follower = try XCTUnwrap(cluster.names.first { $0 != leader })
    XCTAssertEqual(cluster.nodes[follower]!.heartbeatNow(now: cluster.now), [])
  }

  func testReplicatesAWriteToEveryNode() throws {
    var cluster = Cluster(size: 3, seed: 7)
    cluster.run(for: .seconds(2))
    let leader = try XCTUnwrap(cluster.leaders().first)
    let index = try XCTUnwrap(cluster.propose("hello", at: leader))
    XCTAssertEqual(cluster.nodes[leader]?.commitIndex, index, "committed once a majority acknowledged")
    XCTAssertEqual(cluster.nodes[leader]?.value, "hello")
    let follower = try XCTUnwrap(cluster.names.first { $0 != leader })
    XCTAssertNil(cluster.nodes[follower]?.propose("no"), "only the leader takes writes")
    cluster.run(for: .milliseconds(200))  // the next heartbeat carries the commit index
    for node in cluster.nodes.values {
      XCTAssertEqual(node.value, "hello", node.me)
      XCTAssertEqual(node.log, cluster.nodes[leader]?.log, node.me)
    }
  }

  func testMinorityNeitherElectsNorCommitsAndTheStaleLeaderStepsDownAfterHeal() throws {
    var cluster = Cluster(size: 5, seed: 3)
    cluster.run(for: .seconds(2))
    let old = try XCTUnwrap(cluster.leaders().first)
    _ = cluster.propose("before", at: old)
    let minority = [old, cluster.names.first { $0 != old }!]
    let majority = cluster.names.filter { !minority.contains($0) }
    cluster.partition(minority)

    let lost = try XCTUnwrap(cluster.propose("lost", at: old))
    cluster.run(for: .seconds(3))
    XCTAssertLessThan(cluster.nodes[old]!.commitIndex, lost, "a minority leader cannot commit")
    XCTAssertEqual(cluster.nodes[old]?.value, "before")
    let oldTerm = cluster.nodes[old]!.term
    let minorityWinners = cluster.leaders.filter { $0.key > oldTerm }.flatMap(\.value).filter(minority.contains)
    XCTAssertEqual(minorityWinners, [], "no one in the minority may win a later election")

    let new = try XCTUnwrap(cluster.leaders(among: majority).first, "the majority elects a leader")
    XCTAssertGreaterThan(cluster.nodes[new]!.term, oldTerm)
    let kept = try XCTUnwrap(cluster.propose("after", at: new))
    XCTAssertEqual(cluster.nodes[new]?.commitIndex, kept)

    cluster.heal()
    cluster.run(for: .seconds(2))
    XCTAssertEqual(cluster.nodes[old]?.role, .follower, "the stale leader steps down")
    XCTAssertEqual(cluster.leaders().count, 1)
    for node in cluster.nodes.values {
      XCTAssertEqual(node.value, "after", node.me)
      XCTAssertFalse(node.log.contains { $0.value == "lost" }, "\(node.me) still holds the uncommitted write")
    }
  }

  func testStepsDownOnAHigherTermAndIgnoresAnOlderLeader() throws {
    var cluster = Cluster(size: 3, seed: 11)
    cluster.run(for: .seconds(2))
    let leader = try XCTUnwrap(cluster.leaders().first)
    var node = cluster.nodes[leader]!
    let term = node.term
    let old = AppendRequest(term: term - 1, leader: "x", prevIndex: 0, prevTerm: 0, entries: [], leaderCommit: 0)
    XCTAssertFalse(node.handle(old, now: cluster.now).success, "an append from an older term is refused")
    XCTAssertEqual(node.role, .leader)
    _ = node.handle(from: "x", AppendResponse(term: term + 1, success: false, matchIndex: 0), now: cluster.now)
    XCTAssertEqual(node.role, .follower)
    XCTAssertEqual(node.term, term + 1)
    XCTAssertNil(node.leader)
    XCTAssertNil(node.propose("late"))
    XCTAssertEqual(
      node.tick(now: cluster.now + node.electionTimeout.lowerBound - .milliseconds(1)), [],
      "a deposed leader waits a whole election timeout before calling an election")
    XCTAssertEqual(node.role, .follower)
  }

  func testElectionTimeoutIsRandomizedWithinTheRange() {
    var deadlines: Set<Int> = []
    for seed in UInt64(1)...20 {
      let start = ContinuousClock.now
      var node = Raft(
        me: "a", members: ["a", "b"], electionTimeout: .milliseconds(300)...(.milliseconds(600)),
        heartbeat: .milliseconds(100), seed: seed, now: start)
      var elapsed = 0
      while node.tick(now: start + .milliseconds(elapsed)).isEmpty { elapsed += 1 }
      XCTAssertTrue((300...600).contains(elapsed), "\(elapsed) ms")
      XCTAssertEqual(node.role, .candidate)
      deadlines.insert(elapsed)
    }
    XCTAssertGreaterThan(deadlines.count, 10, "timeouts should differ from node to node")
  }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One member of the cluster: owns the `Raft` state machine, drives it with a
/// clock, carries its messages to peers over HTTP and answers clients.
actor Node {
  let config: DemoConfig
  private var raft: Raft
  private let client: HTTPClient
  /// Peers with an append in flight: at most one each, so a slow or cut-off
  /// peer costs one pending request, not a pile of them.
  private var appending: Set<String> = []
  private var lastHeard: [String: ContinuousClock.Instant] = [:]
  /// Clients waiting for their write at this index, proposed in this term, to commit.
  private var waiters: [Int: (term: Int, reply: CheckedContinuation<Bool, Never>)] = [:]
  private var logged: (role: Raft.Role, term: Int, leader: String?)?
  /// Read-index rounds: each leader read takes the next number; a peer's
  /// answer in a term to an append sent during round r confirms every read of
  /// rounds up to r in that term.
  private var readRound = 0
  private var confirmed: [String: (term: Int, round: Int)] = [:]
  /// Leader reads waiting for a majority's confirmation, by id.
  private var readers: [Int: (term: Int, round: Int, reply: CheckedContinuation<ReadResult, Never>)] = [:]
  private var nextReader = 0
  private let assertions = Assertions()
  private var watch: PropertyWatch

  /// Every peer call gives up after this long: a partitioned peer is slow, never a hang.
  static let peerTimeout = TimeAmount.milliseconds(200)
  /// A write not committed in this long is answered 503.
  static let writeTimeout = Duration.seconds(2)

  init(config: DemoConfig, client: HTTPClient) {
    self.config = config
    self.client = client
    watch = PropertyWatch(quiet: .milliseconds(config.electionTimeoutMs.upperBound))
    let durable = config.statePath.flatMap { FileManager.default.contents(atPath: $0) }
      .flatMap { try? JSONDecoder().decode(DurableState.self, from: $0) }
    raft = Raft(
      me: config.name, members: Array(config.peers.keys),
      electionTimeout: .milliseconds(config.electionTimeoutMs.lowerBound)...(.milliseconds(config.electionTimeoutMs.upperBound)),
      heartbeat: .milliseconds(config.heartbeatMs), durable: durable ?? DurableState(),
      seed: UInt64.random(in: .min ... .max), now: .now)
  }

  /// Ticks the state machine until the task is cancelled.
  func run() async {
    assertions.declare()
    logRole()
    while !Task.isCancelled {
      perform(update { $0.tick(now: .now) })
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  // MARK: State machine plumbing

  /// Runs one step of the state machine, then saves what must survive a
  /// restart (before any answer leaves), logs a role change and wakes writers.
  private func update<T>(_ step: (inout Raft) -> T) -> T {
    let before = raft.durable
    let result = step(&raft)
    if raft.durable != before, let path = config.statePath {
      do { try StateFile.save(JSONEncoder().encode(raft.durable), to: path, fsync: config.fsync) } catch {
        say("\(config.name): cannot save \(path): \(error)")
      }
    }
    logRole()
    settleWaiters()
    settleReaders()
    return result
  }

  private func logRole() {
    let now = (role: raft.role, term: raft.term, leader: raft.leader)
    if let logged, logged.role == now.role, logged.leader == now.leader,
      now.role != .candidate || logged.term == now.term
    {
      return
    }
    logged = now
    if now.role == .leader {
      assertions.state(.sometimes, Assertions.elected, true, ["node": .text(config.name), "term": .int(now.term)])
      stateLeader(config.name, term: now.term)
    }
    let of = now.role == .follower ? now.leader.map { " of \($0)" } ?? "" : ""
    say("\(config.name) term \(now.term): \(now.role.rawValue)\(of)")
  }

  private func settleWaiters() {
    for (index, waiter) in waiters {
      if index <= raft.commitIndex {
        waiter.reply.resume(returning: raft.term(at: index) == waiter.term)
      } else if raft.role != .leader || raft.term != waiter.term {
        waiter.reply.resume(returning: false)  // deposed: the write may or may not commit later
      } else {
        continue
      }
      waiters[index] = nil
    }
  }

  private func perform(_ actions: [Raft.Action]) {
    for action in actions {
      switch action {
      case .requestVote(let peer, let request):
        Task {
          guard let response: VoteResponse = await call(peer, "/raft/vote", request) else { return }
          heard(peer)
          perform(update { $0.handle(from: peer, response, now: .now) })
        }
      case .append(let peer, let request):
        guard appending.insert(peer).inserted else { continue }
        let round = readRound
        Task {
          let response: AppendResponse? = await call(peer, "/raft/append", request)
          appending.remove(peer)
          guard let response else { return }
          heard(peer)
          // Same term, success or not: the peer took this node as its leader.
          if response.term == request.term { confirmed[peer] = (request.term, round) }
          perform(update { $0.handle(from: peer, response, now: .now) })
        }
      }
    }
  }

  private func call<Request: Encodable, Response: Decodable>(
    _ peer: String, _ path: String, _ body: Request
  ) async -> Response? {
    guard let address = config.peers[peer] else { return nil }
    var request = HTTPClientRequest(url: "http://\(address)\(path)")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    do {
      request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
      let response = try await client.execute(request, timeout: Self.peerTimeout)
      let bytes = try await response.body.collect(upTo: 1 << 20)
      guard response.status == .ok else { return nil }
      return try JSONDecoder().decode(Response.self, from: Data(bytes.readableBytesView))
    } catch {
      return nil
    }
  }

  private func heard(_ peer: String) { lastHeard[peer] = .now }

  // MARK: What the HTTP endpoints ask for

  func vote(_ request: VoteRequest) -> VoteResponse {
    heard(request.candidate)
    return update { $0.handle(request, now: .now) }
  }

  func append(_ request: AppendRequest) -> AppendResponse {
    heard(request.leader)
    stateLeader(request.leader, term: request.term)
    let response = update { $0.handle(request, now: .now) }
    let caughtUp = watch.answered(
      success: response.success, sameTerm: response.term == request.term, entries: request.entries.count, commitIndex: raft.commitIndex,
      leaderCommit: request.leaderCommit, now: .now)
    if caughtUp {
      assertions.state(.sometimes, Assertions.caughtUp, true, ["node": .text(config.name), "index": .int(raft.commitIndex)])
    }
    return response
  }

  /// States "at most one leader per term" when this node learns who leads `term`.
  private func stateLeader(_ leader: String, term: Int) {
    guard let agrees = watch.leads(leader, term: term) else { return }
    assertions.state(.always, Assertions.oneLeader, agrees, ["node": .text(config.name), "term": .int(term), "leader": .text(leader)])
  }

  enum WriteResult: Equatable {
    case committed(index: Int, term: Int)
    /// Not the leader, or the write did not commit in time; `leader` is who to ask.
    case refused(leader: String?, reason: String)
  }

  /// Replicates `value` and returns once a majority holds it, or refuses.
  func write(_ value: String) async -> WriteResult {
    guard let (index, actions) = update({ $0.propose(value) }) else {
      return .refused(leader: raft.leader, reason: "not the leader")
    }
    let term = raft.term
    perform(actions)
    let committed = await withCheckedContinuation { reply in
      waiters[index] = (term, reply)
      settleWaiters()  // a one-node cluster has committed already
      Task {
        try? await Task.sleep(for: Self.writeTimeout)
        timeOut(index, term: term)
      }
    }
    if committed { return .committed(index: index, term: term) }
    return .refused(leader: raft.leader, reason: "not committed by a majority")
  }

  private func timeOut(_ index: Int, term: Int) {
    guard let waiter = waiters[index], waiter.term == term else { return }
    waiters[index] = nil
    waiter.reply.resume(returning: false)
  }

  enum ReadResult: Equatable {
    /// The committed value; nil before any write committed.
    case value(String?)
    /// Not the leader, no leader known or reachable, or no majority confirmed in time.
    case refused(leader: String?, reason: String)
  }

  /// `GET /value`. With `stale_reads`, this node's own committed value, whatever
  /// its role: the unsafe mode. Otherwise linearizable: the leader answers as
  /// `leaderRead` does, a follower asks its leader (`GET /raft/read`).
  func read() async -> ReadResult {
    if config.staleReads { return .value(raft.value) }
    if raft.role == .leader { return await leaderRead() }
    guard let leader = raft.leader, let address = config.peers[leader] else {
      return .refused(leader: nil, reason: "no leader known")
    }
    do {
      let response = try await client.execute(
        HTTPClientRequest(url: "http://\(address)/raft/read"), timeout: .seconds(Self.writeTimeout.components.seconds))
      let bytes = try await response.body.collect(upTo: 1 << 20)
      if response.status == .ok {
        return .value(try JSONDecoder().decode(ReadAnswer.self, from: Data(bytes.readableBytesView)).value)
      }
    } catch {}
    return .refused(leader: leader, reason: "the leader did not confirm the read")
  }

  /// A read on the leader (Raft §6.4, the read index): answered once an entry
  /// of its own term is committed (so it knows everything committed before it)
  /// and a majority has answered an append sent after the read arrived (so no
  /// newer leader can have committed anything it lacks); refused when it is
  /// not the leader, is deposed, or gets no majority in 2 s.
  func leaderRead() async -> ReadResult {
    guard raft.role == .leader else { return .refused(leader: raft.leader, reason: "not the leader") }
    readRound += 1
    let round = readRound
    let term = raft.term
    let id = nextReader
    nextReader += 1
    return await withCheckedContinuation { reply in
      readers[id] = (term, round, reply)
      perform(update { $0.heartbeatNow(now: .now) })  // settles at once in a one-node cluster
      Task {
        try? await Task.sleep(for: Self.writeTimeout)
        timeOutRead(id)
      }
    }
  }

  private func settleReaders() {
    for (id, reader) in readers {
      if raft.role != .leader || raft.term != reader.term {
        reader.reply.resume(returning: .refused(leader: raft.leader, reason: "not the leader any more"))
      } else if raft.term(at: raft.commitIndex) == raft.term,
        2 * (1 + confirmed.values.count { $0.term == reader.term && $0.round >= reader.round }) > config.peers.count
      {
        reader.reply.resume(returning: .value(raft.value))
      } else {
        continue
      }
      readers[id] = nil
    }
  }

  private func timeOutRead(_ id: Int) {
    guard let reader = readers.removeValue(forKey: id) else { return }
    reader.reply.resume(returning: .refused(leader: raft.leader, reason: "not confirmed by a majority"))
  }

  struct Status: Encodable {
    var name: String
    var role: String
    var term: Int
    var leader: String?
    var value: String?
    var commitIndex: Int
    var peersSeen: [String]
    /// The node's wall clock, in seconds since 1970 (moved by `cthulhu clock skew`).
    var clock: Double

    /// Spelled out so that an unknown leader or value is `null`, not left out.
    func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(name, forKey: .name)
      try c.encode(role, forKey: .role)
      try c.encode(term, forKey: .term)
      try c.encode(leader, forKey: .leader)
      try c.encode(value, forKey: .value)
      try c.encode(commitIndex, forKey: .commitIndex)
      try c.encode(peersSeen, forKey: .peersSeen)
      try c.encode(clock, forKey: .clock)
    }
    enum CodingKeys: String, CodingKey { case name, role, term, leader, value, commitIndex, peersSeen, clock }
  }

  var status: Status {
    let recent = ContinuousClock.now - .seconds(1)
    return Status(
      name: config.name, role: raft.role.rawValue, term: raft.term, leader: raft.leader, value: raft.value,
      commitIndex: raft.commitIndex, peersSeen: lastHeard.filter { $0.value >= recent }.keys.sorted(),
      clock: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
  }

  var value: String? { raft.value }
}

/// `GET /raft/read`'s answer: `{"value": "x"}`, `{"value": null}` before any write.
struct ReadAnswer: Codable {
  var value: String?
  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(value, forKey: .value)
  }
  enum CodingKeys: String, CodingKey { case value }
}

/// Writes one line to stdout at once (cthulhu collects stdout as the instance's log).
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

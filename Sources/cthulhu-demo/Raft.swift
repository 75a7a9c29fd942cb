/// One entry of the replicated log: the value written, in the term its leader wrote it.
/// A `nil` value is the no-op a new leader appends to commit something of its own term.
struct Entry: Codable, Equatable, Sendable {
  var term: Int
  var value: String?
}

/// `POST /raft/vote`: a candidate asks for a vote.
struct VoteRequest: Codable, Equatable, Sendable {
  var term: Int
  var candidate: String
  var lastLogIndex: Int
  var lastLogTerm: Int
}

struct VoteResponse: Codable, Equatable, Sendable {
  var term: Int
  var granted: Bool
}

/// `POST /raft/append`: the leader's heartbeat, carrying the entries after `prevIndex`.
struct AppendRequest: Codable, Equatable, Sendable {
  var term: Int
  var leader: String
  var prevIndex: Int
  var prevTerm: Int
  var entries: [Entry]
  var leaderCommit: Int
}

/// On success `matchIndex` is the last index known to match the leader's log;
/// on failure it is a hint: the index the leader should try as `prevIndex` next.
struct AppendResponse: Codable, Equatable, Sendable {
  var term: Int
  var success: Bool
  var matchIndex: Int
}

/// The state a node must not forget across a restart (Raft's "persistent state").
struct DurableState: Codable, Equatable, Sendable {
  var term = 0
  var votedFor: String? = nil
  var log: [Entry] = []
}

/// Raft leader election and log replication as a pure state machine: no sockets,
/// no clock, no randomness of its own. The caller passes the time in, sends the
/// messages that `Action`s name, and feeds the answers back.
///
/// Simplified compared to Raft (Ongaro & Ousterhout, 2014):
/// - the "state machine" replicated is one register: the value of the last
///   committed non-nil entry;
/// - fixed membership (no configuration changes), no log compaction or snapshots;
/// - a leader sends a peer everything after its `nextIndex` in one message;
/// - durability is the caller's business (`durable` is what to save, before answering);
/// - no pre-vote and no leader lease: a linearizable read is the caller's read-index
///   round (`heartbeatNow`, then a majority's answers in this term); read from the local
///   commit index (`value`), a follower or a deposed leader may return a stale value.
struct Raft: Sendable {
  enum Role: String, Sendable { case follower, candidate, leader }

  /// A message to send; its answer goes to `handle(from:_:now:)`.
  enum Action: Equatable, Sendable {
    case requestVote(to: String, VoteRequest)
    case append(to: String, AppendRequest)
  }

  let me: String
  /// Every member's name, this node's included, sorted.
  let members: [String]
  let electionTimeout: ClosedRange<Duration>
  let heartbeat: Duration

  private(set) var durable: DurableState
  private(set) var role = Role.follower
  /// The leader of the current term, once known.
  private(set) var leader: String?
  /// Index (1-based) of the last entry known to be committed; 0 when none is.
  private(set) var commitIndex = 0

  private var votes: Set<String> = []
  private var nextIndex: [String: Int] = [:]
  private var matchIndex: [String: Int] = [:]
  private var electionDeadline: ContinuousClock.Instant
  private var heartbeatDue: ContinuousClock.Instant
  private var random: SplitMix64

  init(
    me: String, members: [String], electionTimeout: ClosedRange<Duration>, heartbeat: Duration,
    durable: DurableState = DurableState(), seed: UInt64, now: ContinuousClock.Instant
  ) {
    self.me = me
    self.members = Set(members + [me]).sorted()
    self.electionTimeout = electionTimeout
    self.heartbeat = heartbeat
    self.durable = durable
    self.random = SplitMix64(seed: seed)
    self.electionDeadline = now
    self.heartbeatDue = now
    resetElectionTimer(now)
  }

  var term: Int { durable.term }
  var log: [Entry] { durable.log }
  var peers: [String] { members.filter { $0 != me } }
  /// The committed value: the last non-nil value at or before `commitIndex`.
  var value: String? { durable.log[..<commitIndex].last { $0.value != nil }?.value }

  /// The term of the entry at `index` (1-based); 0 for index 0, before the log.
  func term(at index: Int) -> Int { index == 0 ? 0 : durable.log[index - 1].term }

  // MARK: Time

  /// Starts an election when the leader has been silent too long; sends
  /// heartbeats when the leader's are due.
  mutating func tick(now: ContinuousClock.Instant) -> [Action] {
    switch role {
    case .leader:
      guard now >= heartbeatDue else { return [] }
      heartbeatDue = now + heartbeat
      return peers.map(appendAction)
    case .follower, .candidate:
      guard now >= electionDeadline else { return [] }
      return startElection(now)
    }
  }

  private mutating func startElection(_ now: ContinuousClock.Instant) -> [Action] {
    durable.term += 1
    durable.votedFor = me
    role = .candidate
    leader = nil
    votes = [me]
    resetElectionTimer(now)
    if hasMajority(votes.count) { return becomeLeader(now) }
    let request = VoteRequest(term: term, candidate: me, lastLogIndex: log.count, lastLogTerm: term(at: log.count))
    return peers.map { .requestVote(to: $0, request) }
  }

  // MARK: Votes

  /// A voter grants at most one vote a term, and only to a candidate whose log
  /// is at least as up to date as its own (Raft §5.4.1).
  mutating func handle(_ request: VoteRequest, now: ContinuousClock.Instant) -> VoteResponse {
    if request.term > term { stepDown(to: request.term, now: now) }
    let upToDate =
      (request.lastLogTerm, request.lastLogIndex) >= (term(at: log.count), log.count)
    let free = durable.votedFor == nil || durable.votedFor == request.candidate
    let granted = request.term == term && free && upToDate
    if granted {
      durable.votedFor = request.candidate
      resetElectionTimer(now)
    }
    return VoteResponse(term: term, granted: granted)
  }

  mutating func handle(from peer: String, _ response: VoteResponse, now: ContinuousClock.Instant) -> [Action] {
    if response.term > term { stepDown(to: response.term, now: now) }
    guard role == .candidate, response.term == term, response.granted else { return [] }
    votes.insert(peer)
    return hasMajority(votes.count) ? becomeLeader(now) : []
  }

  private mutating func becomeLeader(_ now: ContinuousClock.Instant) -> [Action] {
    role = .leader
    leader = me
    for peer in peers {
      nextIndex[peer] = log.count + 1
      matchIndex[peer] = 0
    }
    // A no-op of the new term: committing it commits everything before it (Raft §8).
    durable.log.append(Entry(term: term, value: nil))
    advanceCommitIndex()
    heartbeatDue = now + heartbeat
    return peers.map(appendAction)
  }

  /// The leader's appends to every peer at once, ahead of the next heartbeat: a
  /// read confirms with them that a majority still follows this leader. Nothing
  /// on another role.
  mutating func heartbeatNow(now: ContinuousClock.Instant) -> [Action] {
    guard role == .leader else { return [] }
    heartbeatDue = now + heartbeat
    return peers.map(appendAction)
  }

  // MARK: Replication

  /// Appends a write to the leader's log; it is committed once a majority has it.
  /// Returns the entry's index and the messages that replicate it, or nil when
  /// this node is not the leader.
  mutating func propose(_ value: String) -> (index: Int, actions: [Action])? {
    guard role == .leader else { return nil }
    durable.log.append(Entry(term: term, value: value))
    advanceCommitIndex()
    return (log.count, peers.map(appendAction))
  }

  /// A follower accepts entries only from the current term's leader, and only
  /// when its log matches the leader's at `prevIndex` (Raft §5.3).
  mutating func handle(_ request: AppendRequest, now: ContinuousClock.Instant) -> AppendResponse {
    guard request.term >= term else {
      return AppendResponse(term: term, success: false, matchIndex: log.count)
    }
    if request.term > term || role != .follower { stepDown(to: request.term, now: now) }
    leader = request.leader
    resetElectionTimer(now)
    guard request.prevIndex <= log.count, term(at: request.prevIndex) == request.prevTerm else {
      return AppendResponse(term: term, success: false, matchIndex: min(log.count, request.prevIndex - 1))
    }
    for (offset, entry) in request.entries.enumerated() {
      let index = request.prevIndex + 1 + offset
      if index <= log.count, term(at: index) != entry.term {
        durable.log.removeSubrange((index - 1)...)  // a conflict: drop it and all after it
      }
      if index > log.count { durable.log.append(entry) }
    }
    let last = request.prevIndex + request.entries.count
    commitIndex = max(commitIndex, min(request.leaderCommit, last))
    return AppendResponse(term: term, success: true, matchIndex: last)
  }

  mutating func handle(from peer: String, _ response: AppendResponse, now: ContinuousClock.Instant) -> [Action] {
    if response.term > term { stepDown(to: response.term, now: now) }
    guard role == .leader, response.term == term else { return [] }
    if response.success {
      matchIndex[peer] = max(matchIndex[peer] ?? 0, response.matchIndex)
      nextIndex[peer] = (matchIndex[peer] ?? 0) + 1
      advanceCommitIndex()
      return (nextIndex[peer] ?? 1) <= log.count ? [appendAction(peer)] : []
    }
    // The logs differ: back up to the follower's hint and retry at once.
    nextIndex[peer] = max(1, min((nextIndex[peer] ?? 1) - 1, response.matchIndex + 1))
    return [appendAction(peer)]
  }

  private func appendAction(_ peer: String) -> Action {
    let next = nextIndex[peer] ?? log.count + 1
    let request = AppendRequest(
      term: term, leader: me, prevIndex: next - 1, prevTerm: term(at: next - 1),
      entries: Array(log[(next - 1)...]), leaderCommit: commitIndex)
    return .append(to: peer, request)
  }

  /// The highest index of the current term that a majority holds is committed;
  /// entries of older terms only ever commit beneath one of these (Raft §5.4.2).
  private mutating func advanceCommitIndex() {
    var index = log.count
    while index > commitIndex, term(at: index) == term {
      let holders = 1 + peers.count { (matchIndex[$0] ?? 0) >= index }
      if hasMajority(holders) {
        commitIndex = index
        return
      }
      index -= 1
    }
  }

  // MARK: Helpers

  /// Seeing a higher term (or the current term's leader) makes any node a follower.
  /// A leader never ran its election timer: it starts one now, or it would
  /// call an election at once and depose the leader it just learned of.
  private mutating func stepDown(to newTerm: Int, now: ContinuousClock.Instant) {
    if role == .leader { resetElectionTimer(now) }
    if newTerm > term {
      durable.term = newTerm
      durable.votedFor = nil
      leader = nil
    }
    role = .follower
    votes = []
  }

  private func hasMajority(_ count: Int) -> Bool { 2 * count > members.count }

  private mutating func resetElectionTimer(_ now: ContinuousClock.Instant) {
    let low = electionTimeout.lowerBound
    let high = electionTimeout.upperBound
    let spread = (high - low) / 1_000_000  // pick one of a million steps in the range
    electionDeadline = now + low + spread * Int(random.next() % 1_000_001)
  }
}

/// A small seeded generator, so tests can replay elections exactly.
struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

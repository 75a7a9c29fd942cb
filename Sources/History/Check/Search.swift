/// One operation as the search sees it: its model input and its interval.
struct SearchOp<Input: Sendable>: Sendable {
  /// The operation's id in the history.
  var id: Int
  var input: Input
  /// Event positions: the invoke, and the completion (`SearchOp.never` when
  /// the outcome is unknown: it may take effect any time after its invoke).
  var call: Int
  var ret: Int

  static var never: Int { Int.max }
}

/// A sequential specification: the state an operation leaves, or nil when
/// the operation cannot happen in that state.
protocol SequentialSpec: Sendable {
  associatedtype State: Hashable & Sendable
  associatedtype Input: Sendable
  var initial: State { get }
  func apply(_ op: SearchOp<Input>, to state: State) -> State?
}

/// What stops a search before it decides.
struct SearchLimits: Sendable {
  var deadline: ContinuousClock.Instant?
  /// The most (linearized set, state) pairs the memo may hold.
  var memo: Int?
}

enum SearchOutcome<State: Sendable>: Sendable {
  /// An order of the operations (ids) that the model accepts and real time allows.
  case linearizable([Int])
  /// No order exists. `longest` is the longest legal order the search built
  /// (with the state after each operation), and `blocked` the operation
  /// whose completion it could not get past. No order got past the
  /// completion at position `frontier`, so the history up to it (with
  /// operations still outstanding there unknown) cannot be linearized.
  case violation(longest: [Int], states: [State], blocked: Int, frontier: Int)
  /// The limits ran out first.
  case unknown(SearchStop)
}

enum SearchStop: Sendable { case deadline, memo }

/// Wing and Gong's search with Lowe's memoization, as Porcupine runs it.
///
/// Calls and returns sit in one list in real-time order. The search walks it
/// and linearizes a call (lifting the call and its return out of the list)
/// whenever the model accepts it and the resulting (linearized set, state)
/// pair is new; meeting a return whose call is not linearized, it backtracks
/// to the last choice. The memo of pairs already seen is what keeps this
/// from being exponential on real histories; each pair is a bitset of the
/// operations plus one model state, and the memo is all the search keeps
/// besides its stack (at most one frame per operation). See ``MemoTable``.
struct Search<Spec: SequentialSpec>: Sendable {
  var spec: Spec
  var ops: [SearchOp<Spec.Input>]

  func run(_ limits: SearchLimits = SearchLimits()) -> SearchOutcome<Spec.State> {
    let n = ops.count
    if n == 0 { return .linearizable([]) }
    // Entries 0..<n are calls, n..<2n returns; head is 2n; -1 ends the list.
    let order = (0..<(2 * n)).sorted { a, b in
      let pa = a < n ? ops[a].call : ops[a - n].ret
      let pb = b < n ? ops[b].call : ops[b - n].ret
      if pa != pb { return pa < pb }
      if (a < n) != (b < n) { return a < n }  // a call before a return at the same instant
      return a < b
    }
    let head = 2 * n
    var next = [Int](repeating: -1, count: 2 * n + 1)
    var prev = [Int](repeating: -1, count: 2 * n + 1)
    var last = head
    for e in order {
      next[last] = e
      prev[e] = last
      last = e
    }

    var table = StateTable<Spec>(ops: n)
    var state = table.number(spec.initial)
    // The current key: the linearized operations' bits, then the state + 1.
    let words = (n + 63) / 64
    var key = [UInt64](repeating: 0, count: words + 1)
    var memo = MemoTable(width: words + 1)
    var stack: [(entry: Int, state: Int32)] = []
    stack.reserveCapacity(n)
    var longest: [Int] = []
    var longestStates: [Int32] = []
    var blocked = -1
    var frontier = 0
    var steps = 0
    var entry = next[head]

    while next[head] != -1 {
      steps &+= 1
      if steps & 0x3ff == 0, let d = limits.deadline, ContinuousClock.now >= d { return .unknown(.deadline) }
      if entry < n {
        let after = table.apply(spec, ops[entry], index: entry, to: state)
        if after >= 0 {
          let bit: UInt64 = 1 &<< UInt64(entry & 63)
          key[entry &>> 6] |= bit
          key[words] = UInt64(after) + 1
          if key.withUnsafeBufferPointer({ memo.insert($0) }) {
            if let m = limits.memo, memo.count > m { return .unknown(.memo) }
            stack.append((entry, state))
            state = after
            // Lift the call and its return out of the list.
            let r = entry + n
            next[prev[entry]] = next[entry]
            prev[next[entry]] = prev[entry]
            next[prev[r]] = next[r]
            if next[r] != -1 { prev[next[r]] = prev[r] }
            entry = next[head]
            continue
          }
          key[entry &>> 6] &= ~bit
        }
        entry = next[entry]
      } else {
        // A return whose call is not linearized: undo the last choice.
        guard let top = stack.popLast() else {
          if blocked < 0 { blocked = entry - n }
          return .violation(
            longest: longest.map { ops[$0].id }, states: longestStates.map { table.states[Int($0)] }, blocked: ops[blocked].id,
            frontier: max(frontier, ops[entry - n].ret))
        }
        frontier = max(frontier, ops[entry - n].ret)
        if stack.count + 1 > longest.count {
          longest = stack.map(\.entry) + [top.entry]
          longestStates = (stack.map(\.state) + [top.state]).dropFirst() + [state]
          blocked = entry - n
        }
        let e = top.entry
        let r = e + n
        next[prev[r]] = r
        if next[r] != -1 { prev[next[r]] = r }
        next[prev[e]] = e
        prev[next[e]] = e
        state = top.state
        key[e &>> 6] &= ~(1 &<< UInt64(e & 63))
        entry = next[e]
      }
    }
    return .linearizable(stack.map { ops[$0.entry].id })
  }
}

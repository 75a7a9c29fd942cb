import Foundation
import Manifest
import Synchronization

/// Hands the workers their operations: from the generator, at the rate,
/// until the time limit or a stop; then the final reads, each once.
final class OperationSource: Sendable {
  private struct State {
    var generator: OperationGenerator
    var nextSlot: ContinuousClock.Instant
    var finals: [Invocation] = []
  }
  private let state: Mutex<State>
  private let interval: Duration?
  private let end: ContinuousClock.Instant
  private let stopped = Atomic<Bool>(false)

  /// `rate` in operations per second across workers (nil: no limit).
  init(generator: OperationGenerator, rate: Double?, timeLimit: Duration, start: ContinuousClock.Instant = .now) {
    state = Mutex(State(generator: generator, nextSlot: start))
    interval = rate.map { .nanoseconds(Int64((1e9 / $0).rounded())) }
    end = start + timeLimit
  }

  /// Stops handing out generated operations (Ctrl-C, or the time limit).
  func stop() { stopped.store(true, ordering: .relaxed) }
  var isStopped: Bool { stopped.load(ordering: .relaxed) || ContinuousClock.now >= end }

  /// The next generated operation, when its turn under the rate comes; nil once stopped.
  func next() -> Invocation? {
    guard !isStopped else { return nil }
    let (op, slot) = state.withLock { s -> (Invocation, ContinuousClock.Instant?) in
      let op = s.generator.next()
      guard let interval else { return (op, nil) }
      let slot = max(s.nextSlot, .now)
      s.nextSlot = slot + interval
      return (op, slot)
    }
    if let slot {
      // In short sleeps, so a stop is seen soon.
      while ContinuousClock.now < slot {
        if isStopped { return nil }
        let left = ContinuousClock.now.duration(to: slot)
        Thread.sleep(forTimeInterval: min(0.05, left.seconds))
      }
    }
    return op
  }

  /// Queues the final reads.
  func queueFinals(_ ops: [Invocation]) { state.withLock { $0.finals = ops.reversed() } }
  /// The next final read not yet taken.
  func nextFinal() -> Invocation? { state.withLock { $0.finals.popLast() } }
  /// Puts a final read back, to be tried again.
  func retryFinal(_ op: Invocation) { state.withLock { $0.finals.insert(op, at: 0) } }
}

/// Runs `body(i)` for i in 0..<count, each on a thread of its own (a worker
/// blocks on its client's pipes), and returns when all are done.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
  await withTaskGroup(of: Void.self) { group in
    for i in 0..<count {
      group.addTask {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
          Thread.detachNewThread {
            body(i)
            done.resume()
          }
        }
      }
    }
  }
}

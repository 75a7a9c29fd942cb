import Foundation
import History
import Synchronization

/// The run's history.jsonl, written by every worker: each event is added
/// under one lock, so the file's order is an order in which things really
/// happened (an invoke before its request is sent, a completion after its
/// reply came), and written in large blocks rather than a write a line.
final class HistoryWriter: Sendable {
  private struct Buffer {
    var bytes: [UInt8] = []
    var failure: String?
  }
  private let fd: Int32
  private let path: String
  private let buffer = Mutex(Buffer())
  private static let flushAt = 1 << 16

  init(path: String) throws {
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    self.path = path
    guard fd >= 0 else { throw RunError.io("cannot write \(path): \(String(cString: strerror(errno)))") }
  }

  deinit { close(fd) }

  /// Appends one event with the time now (CLOCK_MONOTONIC); returns the time.
  @discardableResult
  func append(process: Int, type: HistoryEvent.Kind, op: Invocation, value: HistoryValue) -> UInt64 {
    add { HistoryEvent(process: process, type: type, f: op.f, value: value, key: op.key, time: $0).jsonLine }
  }

  /// Appends an operation of the nemesis (`"process": "nemesis"`, as
  /// Jepsen writes them; checkers skip them) with the time now; returns the time.
  @discardableResult
  func appendNemesis(type: HistoryEvent.Kind, f: String, value: HistoryValue) -> UInt64 {
    add { "{\"process\": \"nemesis\", \"type\": \"\(type.rawValue)\", \"f\": \(HistoryValue.quote(f)), \"value\": \(value.json), \"time\": \($0)}" }
  }

  /// Adds the line `line(now)` under the lock, so that its time and its place agree.
  private func add(_ line: (UInt64) -> String) -> UInt64 {
    buffer.withLock { b in
      let now = HistoryEvent.monotonicNow()
      b.bytes.append(contentsOf: line(now).utf8)
      b.bytes.append(10)
      if b.bytes.count >= Self.flushAt { write(&b) }
      return now
    }
  }

  /// Writes what is buffered; throws the first write error of the run.
  func flush() throws {
    let failure = buffer.withLock { b in
      write(&b)
      return b.failure
    }
    if let failure { throw RunError.io(failure) }
  }

  private func write(_ b: inout Buffer) {
    var done = 0
    while done < b.bytes.count {
      let n = b.bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, $0.count - done) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 {
        b.failure = b.failure ?? "cannot write \(path): \(String(cString: strerror(errno)))"
        break
      }
      done += n
    }
    b.bytes.removeAll(keepingCapacity: true)
  }
}

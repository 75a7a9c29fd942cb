import Foundation

/// One line of a history: a client invoked an operation, or learnt how it ended.
///
/// The format is Jepsen's and elle-cli's JSON, one object a line:
/// `{"process": 3, "type": "invoke", "f": "write", "value": 7, "key": "k1", "time": 81234567}`.
public struct HistoryEvent: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// The client started the operation; `value` is its argument.
    case invoke
    /// It took effect; `value` is its result (a read's value).
    case ok
    /// It did not take effect.
    case fail
    /// Its outcome is unknown: it may take effect at any time after its invoke, or never.
    case info
  }

  public var process: Int
  /// The process of a Jepsen operation that names none, until
  /// ``JepsenHistory`` gives it one of its own (negative: -1, -2, …).
  public static let anonymousProcess = Int.min
  public var type: Kind
  public var f: String
  public var value: HistoryValue
  /// The key, for `kv` operations.
  public var key: String?
  /// Nanoseconds on the host's CLOCK_MONOTONIC, when recorded.
  public var time: UInt64?
  /// 1-based line in the file it was read from (0 when made in memory).
  public var line: Int

  public init(process: Int, type: Kind, f: String, value: HistoryValue = .null, key: String? = nil, time: UInt64? = nil, line: Int = 0) {
    self.process = process
    self.type = type
    self.f = f
    self.value = value
    self.key = key
    self.time = time
    self.line = line
  }

  /// The event as one line of JSON (without the newline), keys in the
  /// format's order: process, type, f, key, value, time.
  public var jsonLine: String {
    var s = "{\"process\": \(process), \"type\": \"\(type.rawValue)\", \"f\": \(HistoryValue.quote(f))"
    if let key { s += ", \"key\": \(HistoryValue.quote(key))" }
    s += ", \"value\": \(value.json)"
    if let time { s += ", \"time\": \(time)" }
    return s + "}"
  }

  /// Now on CLOCK_MONOTONIC, in nanoseconds: the clock of `time`, and of
  /// `monotonic` in the fixture's events.jsonl (there in seconds).
  public static func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
  }
}

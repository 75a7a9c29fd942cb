import Foundation

/// Records one client call as an operation: appends its invoke, runs the
/// command, and appends how it ended.
///
/// - exit 0: `ok`; a `read` or `get` takes the command's output as its
///   value (one trailing newline dropped; for `read`, JSON when it is JSON);
/// - an exit code the caller says means "did not happen": `fail`;
/// - the timeout, a signal or any other exit code: `info` (unknown: the
///   call may have taken effect, or not);
/// - a command that cannot start: `fail` (it never ran).
public struct OperationRecorder: Sendable {
  public struct Request: Sendable {
    public var process: Int
    public var f: String
    public var value: HistoryValue
    public var key: String?
    public var command: [String]
    public var timeout: Duration?
    /// Exit codes that mean the operation did not happen.
    public var failCodes: Set<Int32>

    public init(process: Int, f: String, value: HistoryValue, key: String?, command: [String], timeout: Duration?, failCodes: Set<Int32>) {
      self.process = process
      self.f = f
      self.value = value
      self.key = key
      self.command = command
      self.timeout = timeout
      self.failCodes = failCodes
    }
  }

  public struct Result: Sendable {
    /// The completion recorded.
    public var completion: HistoryEvent
    /// How the command ended, in words, when it did not exit 0.
    public var problem: String?
    /// The exit status to pass on: the command's, 124 on timeout (as
    /// timeout(1)), 128+N for a signal, 127 when it could not start.
    public var status: Int32
  }

  public let log: HistoryLog
  public init(log: HistoryLog) { self.log = log }

  /// A value given on a command line, as the operation `f` takes it: kv
  /// operations take strings as they are, the others JSON when it is JSON.
  public static func value(_ text: String?, f: String) -> HistoryValue {
    guard let text else { return .null }
    return ["get", "put", "append"].contains(f) ? .string(text) : HistoryValue.parsing(text)
  }

  public func record(_ r: Request) throws -> Result {
    try log.append(HistoryEvent(process: r.process, type: .invoke, f: r.f, value: r.value, key: r.key, time: HistoryEvent.monotonicNow()))
    var completion = HistoryEvent(process: r.process, type: .info, f: r.f, value: r.value, key: r.key)
    let problem: String?
    let status: Int32
    let name = r.command.first ?? ""
    do {
      let (ending, output) = try Subprocess().run(r.command, timeout: r.timeout)
      switch ending {
      case .exited(0):
        completion.type = .ok
        if r.f == "read" || r.f == "get" { completion.value = Self.readValue(Self.text(output), f: r.f) }
        (problem, status) = (nil, 0)
      case .exited(let code) where r.failCodes.contains(code):
        completion.type = .fail
        (problem, status) = ("\(name) exited with \(code): recorded as fail (did not happen)", code)
      case .exited(let code):
        (problem, status) = ("\(name) exited with \(code): recorded as info (outcome unknown)", code)
      case .signalled(let sig):
        (problem, status) = ("\(name) was killed by signal \(sig): recorded as info (outcome unknown)", 128 + sig)
      case .timedOut:
        (problem, status) = ("\(name) timed out: recorded as info (outcome unknown)", 124)
      }
    } catch {
      completion.type = .fail
      (problem, status) = ("cannot run \(name): \(error); recorded as fail (it never ran)", 127)
    }
    completion.time = HistoryEvent.monotonicNow()
    try log.append(completion)
    return Result(completion: completion, problem: problem, status: status)
  }

  /// What a read's output records. A register `read` that printed nothing
  /// read nothing: `null`, the register's value before any write (an empty
  /// string would be a value nobody wrote, and a violation). A kv `get`
  /// keeps its text: a key starts as `""`.
  static func readValue(_ text: String, f: String) -> HistoryValue {
    f == "read" && text.isEmpty ? .null : value(text, f: f)
  }

  static func text(_ output: Data) -> String {
    var s = String(decoding: output, as: UTF8.self)
    if s.last == "\n" || s.last == "\r\n" { s.removeLast() }
    return s
  }
}

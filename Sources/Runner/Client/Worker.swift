import Foundation
import History
import Manifest

/// One worker: a client with one operation in flight, ever. After an
/// outcome it cannot know (`info`: a timeout, a crash, a reply that breaks
/// the protocol, or the client's own `info`) the client is ended and a new
/// one started under a new process number (Jepsen's rule), so the history
/// never has two operations of one process open at once.
final class Worker: @unchecked Sendable {
  struct Setup: Sendable {
    var client: WorkloadClient
    /// Where client commands run: the manifest's folder.
    var directory: String
    /// CTHULHU_FIXTURE, CTHULHU_SPEC, CTHULHU_SEED, CTHULHU_ASSERTIONS …
    var environment: [String: String]
    var timeout: Duration
    /// Added to the process number at each restart.
    var concurrency: Int
    /// Where each worker's client stderr goes.
    var logs: String
  }

  let index: Int
  private(set) var process: Int
  private let setup: Setup
  private var client: ClientProcess?
  /// Why the worker could not go on (a client that cannot be started again).
  private(set) var broken: String?
  /// When its client started: one that ends at once is started again after a pause.
  private var clientStarted = ContinuousClock.now

  init(index: Int, setup: Setup) {
    self.index = index
    self.process = index
    self.setup = setup
  }

  var log: String { setup.logs + "/worker-\(index < 10 ? "0" : "")\(index).log" }

  private var environment: [String: String] {
    var env = setup.environment
    env["CTHULHU_PROCESS"] = String(process)
    return env
  }

  /// Starts the worker's client (a process per worker), if not running.
  func start() throws {
    guard case .process(let command) = setup.client, client == nil else { return }
    client = try ClientProcess(command, directory: setup.directory, environment: environment, log: log)
    clientStarted = .now
  }

  /// Runs `op` and records its invoke and completion.
  func perform(_ op: Invocation, into history: HistoryWriter) -> Reply {
    history.append(process: process, type: .invoke, op: op, value: op.value)
    let reply: Reply
    switch setup.client {
    case .process: reply = ask(op)
    case .perOperation(let command, let failCodes): reply = runOnce(op, command: command, failCodes: failCodes)
    }
    history.append(process: process, type: reply.type, op: op, value: reply.value)
    if reply.type == .info { restart(because: reply.error ?? "info") }
    return reply
  }

  private func ask(_ op: Invocation) -> Reply {
    guard let client else { return Reply(type: .info, value: op.value, error: "no client") }
    guard client.send(op.requestLine) else { return Reply(type: .info, value: op.value, error: "the client's stdin is closed (it exited)") }
    switch client.readLine(deadline: .now + setup.timeout) {
    case .line(let line):
      return Reply.parse(line, request: op)
        ?? Reply(type: .info, value: op.value, error: "not a reply (want {\"type\": \"ok\"|\"fail\"|\"info\", …}): \(line.prefix(200))")
    case .timedOut: return Reply(type: .info, value: op.value, error: "no reply within \(Units.text(setup.timeout))")
    case .closed: return Reply(type: .info, value: op.value, error: "the client exited")
    }
  }

  /// The per-operation form: the request in CTHULHU_OP; exit 0 ok (a read's
  /// value is its output, JSON when it is JSON), a fail code fail, else info.
  private func runOnce(_ op: Invocation, command: [String], failCodes: Set<Int32>) -> Reply {
    var env = environment
    env["CTHULHU_OP"] = op.requestLine
    env["CTHULHU_F"] = op.f
    env["CTHULHU_VALUE"] = op.value.json
    if let key = op.key { env["CTHULHU_KEY"] = key }
    let deadline = ContinuousClock.now + setup.timeout
    let p: ClientProcess
    do { p = try ClientProcess(command, directory: setup.directory, environment: env, log: log) } catch {
      return Reply(type: .fail, value: op.value, error: "\(error)")
    }
    let output = p.readToEnd(deadline: deadline)
    let code = p.exitCode(deadline: output == nil ? .now : deadline)
    switch code {
    case 0?:
      var text = output ?? ""
      if text.hasSuffix("\n") { text.removeLast() }
      let reads = op.value == .null && op.f != "add"
      return Reply(type: .ok, value: reads ? HistoryValue.parsing(text) : op.value, error: nil)
    case let c? where failCodes.contains(c): return Reply(type: .fail, value: op.value, error: "exit \(c)")
    case let c?: return Reply(type: .info, value: op.value, error: "exit \(c)")
    case nil: return Reply(type: .info, value: op.value, error: output == nil ? "timed out" : "killed by a signal")
    }
  }

  private func restart(because why: String) {
    appendLog("cthulhu: process \(process) ended (\(why)); restarting as \(process + setup.concurrency)")
    process += setup.concurrency
    guard case .process = setup.client else { return }
    client?.end()
    client = nil
    // A client that ends as soon as it starts (it cannot reach the system,
    // say) is not started again in a tight loop.
    if ContinuousClock.now - clientStarted < .milliseconds(100) { Thread.sleep(forTimeInterval: 0.1) }
    do { try start() } catch { broken = "\(error)" }
  }

  /// Ends the client.
  func stop() {
    client?.end()
    client = nil
  }

  private func appendLog(_ line: String) {
    let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }
}

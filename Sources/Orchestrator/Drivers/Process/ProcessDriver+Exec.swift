import Foundation
import Manifest

extension ProcessDriver {
  /// Runs `command` on the host as the instance runs: its working directory,
  /// its environment, its user, and in namespaces mode its network namespace.
  public func exec(id: String, command: [String]) async throws -> ExecResult {
    let (r, _, _) = try running(id, "exec in")
    let out = try await run(command, in: r, timeout: nil)
    return ExecResult(
      exitCode: out.status, stdout: String(decoding: out.stdout, as: UTF8.self), stderr: String(decoding: out.stderr, as: UTF8.self))
  }

  /// A program that cannot be started exits 127 with a line on stderr, as a
  /// shell says it (Docker's exec reports it the same way, as output).
  func run(_ command: [String], in r: ProcessInstance, timeout: Duration?) async throws -> Spawner.Output {
    guard !command.isEmpty else { throw DriverError(.unsupported, "exec needs a command") }
    var argv = (r.userSwitch?.prefix ?? []) + command
    if r.mode == .namespaces, let ns = r.namespace {
      argv = [HostCommand.locate("nsenter") ?? "nsenter", "--net=" + Namespaces.path(namespace: ns), "--"] + argv
    }
    var isDir: ObjCBool = false
    let cwd = FileManager.default.fileExists(atPath: r.cwd, isDirectory: &isDir) && isDir.boolValue ? r.cwd : "/"
    do {
      // Without CTHULHU_ID: only the instance's own process carries it.
      return try await Spawner.run(argv, env: r.env.filter { !$0.hasPrefix("CTHULHU_ID=") }, cwd: cwd, timeout: timeout)
    } catch let e as DriverError where e.code == .unsupported {
      return Spawner.Output(status: 127, stdout: Data(), stderr: Data((e.message + "\n").utf8))
    }
  }

  /// One run of the health check: passed when it exits 0 within its timeout.
  func check(_ r: ProcessInstance, _ spec: HealthcheckSpec) async -> (passed: Bool, output: String) {
    guard let out = try? await run(spec.test, in: r, timeout: .nanoseconds(spec.timeout)) else { return (false, "could not run") }
    let text = String(decoding: out.stdout + out.stderr, as: UTF8.self)
    return (out.status == 0 && !out.timedOut, out.timedOut ? "timed out" : text)
  }

  /// The instance's log file, line by line, every line as `stdout` (the
  /// process writes both streams to one file). Lines carry no time of their
  /// own: `since` later than the file's last change yields nothing, else
  /// the whole file; `timestamps` is ignored. `follow` keeps reading new
  /// lines until the instance is no longer running.
  public func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        do {
          let r = try record(id)
          guard let handle = FileHandle(forReadingAtPath: r.log) else {
            continuation.finish()
            return
          }
          defer { try? handle.close() }
          if let since, let changed = (try? FileManager.default.attributesOfItem(atPath: r.log))?[.modificationDate] as? Date, changed < since {
            try handle.seekToEnd()
            if !follow {
              continuation.finish()
              return
            }
          }
          var pending = Data()
          func emit(_ data: Data) {
            pending.append(data)
            while let nl = pending.firstIndex(of: 10) {
              continuation.yield(LogLine(stream: .stdout, text: String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)))
              pending.removeSubrange(pending.startIndex...nl)
            }
          }
          while true {
            let chunk = try handle.read(upToCount: 1 << 16) ?? Data()
            if !chunk.isEmpty {
              emit(chunk)
              continue
            }
            guard follow, !Task.isCancelled else { break }
            // Nothing new: stop once the instance has stopped (after one more read).
            let (_, state) = try settle(try record(id))
            if state != .running && state != .paused {
              emit(try handle.readToEnd() ?? Data())
              break
            }
            try await Task.sleep(for: .milliseconds(100))
          }
          if !pending.isEmpty { continuation.yield(LogLine(stream: .stdout, text: String(decoding: pending, as: UTF8.self))) }
          continuation.finish()
        } catch is CancellationError {
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

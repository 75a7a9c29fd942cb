import Foundation

/// Detached helper processes: a `cthulhu` that outlives the command (and the
/// shell, and the test runner) that started it, in a session of its own, with
/// its output in `<root>/.cthulhu/reaper.log`. `--for` faults use it to lift
/// themselves on time.
public enum Reaper {
  /// Starts `executable arguments…` detached; returns its PID.
  public static func spawn(_ executable: CthulhuExecutable, arguments: [String], root: String) throws -> Int32 {
    let log = root + "/.cthulhu/reaper.log"
    let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw OrchestratorError(.io, "\(log): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    // Its own session (no terminal hang-up reaches it), a clean signal state,
    // and no inherited descriptor but these: an inherited pipe would keep
    // whoever waits on it (a test runner, `$(…)` in a shell) waiting until
    // the fault expires.
    do {
      return try Spawner.spawn(
        [executable.path] + arguments, env: Spawner.inheritedEnvironment, cwd: nil, streams: .init(stdin: nil, stdout: fd, stderr: fd))
    } catch {
      throw OrchestratorError(.io, "could not start \(executable.path): \(error)")
    }
  }

  /// Stops the reaper `pid` if it is still the one cthulhu started for `root`
  /// (its command line says so): a reused PID is never signalled.
  public static func stop(pid: Int32, root: String) {
    guard pid > 0, pid != getpid(), isReaper(pid: pid, root: root) else { return }
    kill(pid, SIGTERM)
  }

  static func isReaper(pid: Int32, root: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
    let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    return args.contains("_reap") && args.contains(root)
  }
}

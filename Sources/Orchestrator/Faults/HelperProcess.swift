import Foundation

/// cthulhu's detached helper processes: a `cthulhu` that outlives the command
/// (and the shell, and the test runner) that started it, in a session of its
/// own, with its output in `<root>/.cthulhu/helpers.log`. Each is known by its
/// role and its command line, so that a reused PID is never signalled.
public enum HelperProcess {
  public enum Role: String, Sendable, CaseIterable {
    /// Lifts a `--for` fault, or destroys a fixture whose `--ttl` ran out, on time.
    case reaper = "_reap"
    /// Holds and releases the packets of a delay without netem.
    case delayer = "_delay"
    /// Runs a nemesis schedule.
    case nemesis = "_nemesis"
    /// Serves an instance's mount through the disk layer.
    case disk = "_disk"
  }

  /// The log every helper of `root` writes to.
  public static func log(root: String) -> String { root + "/.cthulhu/helpers.log" }

  /// Starts `executable role arguments…` detached; returns its PID.
  public static func spawn(_ executable: CthulhuExecutable, _ role: Role, arguments: [String], root: String) throws -> Int32 {
    let log = log(root: root)
    let fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw OrchestratorError(.io, "\(log): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    // Its own session (no terminal hang-up reaches it), a clean signal state,
    // and no inherited descriptor but these: an inherited pipe would keep
    // whoever waits on it (a test runner, `$(…)` in a shell) waiting until
    // the fault expires.
    do {
      return try Spawner.spawn(
        [executable.path, role.rawValue] + arguments, env: Spawner.inheritedEnvironment, cwd: nil,
        streams: .init(stdin: nil, stdout: fd, stderr: fd))
    } catch {
      throw OrchestratorError(.io, "could not start \(executable.path) \(role.rawValue): \(error)")
    }
  }

  /// Whether `pid` is alive (not a zombie: orphans are reaped late here) and
  /// is the `role` helper of `root` (and of `instance`, when given), by its
  /// command line.
  public static func isRunning(pid: Int32, _ role: Role, root: String, instance: String? = nil) -> Bool {
    guard isAlive(pid), let data = ProcFile.data("/proc/\(pid)/cmdline")
    else { return false }
    let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    guard args.contains(role.rawValue), value(of: "--fixture", in: args) == root else { return false }
    return instance == nil || value(of: "--instance", in: args) == instance
  }

  /// Whether `pid` exists and is not a zombie, whatever it runs (a helper
  /// just spawned may not have replaced its image yet, so its command line
  /// is not yet its own).
  public static func isAlive(_ pid: Int32) -> Bool {
    pid > 0 && (ProcStat.read(pid).map { $0.state != "Z" && $0.state != "X" } ?? false)
  }

  /// Asks the helper to end (SIGTERM) without waiting, if it is still ours.
  public static func signal(pid: Int32, _ role: Role, root: String, instance: String? = nil) {
    guard pid != getpid(), isRunning(pid: pid, role, root: root, instance: instance) else { return }
    kill(pid, SIGTERM)
  }

  /// Ends the helper if it is still ours: SIGTERM, then waits up to
  /// `patience` for it to go, then SIGKILL (and up to 5 s more).
  public static func stop(pid: Int32, _ role: Role, root: String, instance: String? = nil, patience: Duration) async {
    guard pid != getpid(), isRunning(pid: pid, role, root: root, instance: instance) else { return }
    kill(pid, SIGTERM)
    let deadline = ContinuousClock.now + patience
    while isRunning(pid: pid, role, root: root, instance: instance) {
      if ContinuousClock.now >= deadline {
        kill(pid, SIGKILL)
        let last = ContinuousClock.now + .seconds(5)
        while isRunning(pid: pid, role, root: root, instance: instance) && ContinuousClock.now < last {
          try? await Task.sleep(for: .milliseconds(10))
        }
        return
      }
      try? await Task.sleep(for: .milliseconds(10))
    }
  }

  static func value(of option: String, in args: [String]) -> String? {
    args.firstIndex(of: option).flatMap { args.indices.contains($0 + 1) ? args[$0 + 1] : nil }
  }
}

import Foundation

/// Detached helper processes: a `cthulhu` that outlives the command (and the
/// shell, and the test runner) that started it, in a session of its own, with
/// its output in `<root>/.cthulhu/reaper.log`. `--for` faults use it to lift
/// themselves on time.
public enum Reaper {
  /// Starts `binary arguments…` detached; returns its PID.
  public static func spawn(binary: String, arguments: [String], root: String) throws -> Int32 {
    let log = root + "/.cthulhu/reaper.log"
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Nothing else: an inherited pipe would keep whoever waits on it (a test
    // runner, `$(…)` in a shell) waiting until the fault expires.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
      if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // POSIX_SPAWN_SETSID (glibc): a new session, so no terminal hang-up reaches it.
    posix_spawnattr_setflags(&attr, Int16(0x80 | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attr, &all)
    let argv = ([binary] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, binary, &actions, &attr, argv, environ)
    guard rc == 0 else { throw OrchestratorError(.io, "could not start \(binary): \(String(cString: strerror(rc)))") }
    return pid
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

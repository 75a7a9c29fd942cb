import Foundation
import Manifest

/// A client program started for one worker: its stdin and stdout are pipes,
/// its stderr goes to the worker's log. It runs in its own process group,
/// so ending it ends whatever it started.
final class ClientProcess {
  let pid: pid_t
  private let input: Int32
  private let output: Int32
  /// Bytes read past the last line handed out.
  private var pending: [UInt8] = []
  private var scratch = [UInt8](repeating: 0, count: 65536)
  private var ended = false

  enum Read: Equatable {
    case line(String)
    /// No line before the deadline.
    case timedOut
    /// Its stdout closed: it exited (or closed it).
    case closed
  }

  /// Starts `argv` (found on PATH) in `directory` with `environment` added
  /// to ours; stderr appended to `log`.
  init(_ argv: [String], directory: String, environment: [String: String], log: String) throws {
    var toChild: [Int32] = [0, 0]
    var fromChild: [Int32] = [0, 0]
    guard pipe(&toChild) == 0 else { throw RunError.client("cannot make a pipe: \(String(cString: strerror(errno)))") }
    guard pipe(&fromChild) == 0 else {
      close(toChild[0])
      close(toChild[1])
      throw RunError.client("cannot make a pipe: \(String(cString: strerror(errno)))")
    }
    let logFD = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    defer { if logFD >= 0 { close(logFD) } }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
    posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
    if logFD >= 0 { posix_spawn_file_actions_adddup2(&actions, logFD, 2) }
    for fd in toChild + fromChild { posix_spawn_file_actions_addclose(&actions, fd) }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // Its own group (kill -group ends its children too), default signals
    // (a Ctrl-C reaches cthulhu, which ends the clients itself).
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGPIPE)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
    posix_spawnattr_setpgroup(&attr, 0)
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    var cenv: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    // Into `directory` by a shell (Glibc's addchdir_np is not visible to
    // Swift here), which then becomes the client: one exec more, no process.
    let wrapped = ["/bin/sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh", directory] + argv
    var cargs: [UnsafeMutablePointer<CChar>?] = wrapped.map { strdup($0) } + [nil]
    defer { for p in cargs + cenv { free(p) } }
    var child: pid_t = 0
    let rc = posix_spawn(&child, "/bin/sh", &actions, &attr, &cargs, &cenv)
    close(toChild[0])
    close(fromChild[1])
    guard rc == 0 else {
      close(toChild[1])
      close(fromChild[0])
      throw RunError.client("cannot start \(argv[0]) in \(directory): \(String(cString: strerror(rc)))")
    }
    pid = child
    input = toChild[1]
    output = fromChild[0]
    _ = fcntl(input, F_SETFD, FD_CLOEXEC)
    _ = fcntl(output, F_SETFD, FD_CLOEXEC)
  }

  deinit { end() }

  /// Writes one line; false when the client is gone (its stdin closed).
  func send(_ line: String) -> Bool {
    var bytes = Array(line.utf8)
    bytes.append(10)
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { write(input, $0.baseAddress! + done, $0.count - done) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 { return false }
      done += n
    }
    return true
  }

  /// The next line of its stdout, waiting until `deadline` at most.
  func readLine(deadline: ContinuousClock.Instant, keepAll: Bool = false) -> Read {
    while true {
      if let nl = pending.firstIndex(of: 10), !keepAll {
        let line = String(decoding: pending[..<nl], as: UTF8.self)
        pending.removeSubrange(...nl)
        return .line(line)
      }
      let left = ContinuousClock.now.duration(to: deadline)
      guard left > .zero else { return .timedOut }
      var p = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
      let ms = Int32(clamping: left.wholeMilliseconds + 1)
      let ready = poll(&p, 1, ms)
      if ready < 0, errno == EINTR { continue }
      if ready <= 0 { continue }  // the loop checks the deadline
      let n = scratch.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR || errno == EAGAIN { continue }
      if n <= 0 { return .closed }
      pending.append(contentsOf: scratch[0..<n])
    }
  }

  /// Everything it prints until it closes its stdout; nil when `deadline` comes first.
  func readToEnd(deadline: ContinuousClock.Instant) -> String? {
    while true {
      switch readLine(deadline: deadline, keepAll: true) {
      case .line: continue
      case .timedOut: return nil
      case .closed:
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
      }
    }
  }

  /// Its exit code once it exits (nil: killed by a signal, or still running at `deadline`, then killed).
  func exitCode(deadline: ContinuousClock.Instant) -> Int32? {
    guard !ended else { return nil }
    ended = true
    close(input)
    defer { close(output) }
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
      if ContinuousClock.now >= deadline {
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return nil
      }
      usleep(500)
    }
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
  }

  /// Closes its stdin (a well-behaved client exits at end of input), gives
  /// it `grace` to go, then kills its group; reaps it.
  func end(grace: Duration = .milliseconds(200)) {
    guard !ended else { return }
    ended = true
    close(input)
    let deadline = ContinuousClock.now + grace
    var status: Int32 = 0
    while waitpid(pid, &status, WNOHANG) == 0 {
      if ContinuousClock.now >= deadline {
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        break
      }
      usleep(2000)
    }
    kill(-pid, SIGKILL)  // what it left behind in its group
    close(output)
  }
}

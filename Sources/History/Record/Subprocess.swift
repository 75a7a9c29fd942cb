import Foundation

/// A command run in its own process group with its output captured, that
/// can be given up on: on timeout the whole group is killed, so a shell's
/// children cannot keep it alive.
final class Subprocess: @unchecked Sendable {
  enum Ending {
    case exited(Int32)
    case signalled(Int32)
    case timedOut
  }

  private let lock = NSLock()
  private var output = Data()

  /// Why a command could not start.
  struct StartError: Error, CustomStringConvertible {
    var errno: Int32
    var description: String { String(cString: strerror(errno)) }
  }

  /// Runs `argv` (found on PATH), its stdout captured and also passed on to
  /// ours, stdin and stderr inherited. Throws ``StartError`` when it cannot start.
  func run(_ argv: [String], timeout: Duration?) throws -> (Ending, Data) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw StartError(errno: errno) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_addclose(&actions, fds[1])
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attr, 0)
    var cargs = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, &cargs, environ)
    close(fds[1])
    guard rc == 0 else {
      close(fds[0])
      throw StartError(errno: rc)
    }
    let reader = fds[0]
    let drained = DispatchSemaphore(value: 0)
    Thread.detachNewThread { [self] in
      var buffer = [UInt8](repeating: 0, count: 65536)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        FileHandle.standardOutput.write(Data(buffer[0..<n]))
        lock.withLock { output.append(contentsOf: buffer[0..<n]) }
      }
      close(reader)
      drained.signal()
    }
    let exited = DispatchSemaphore(value: 0)
    let status = StatusBox()
    let child = pid
    Thread.detachNewThread {
      var s: Int32 = 0
      while waitpid(child, &s, 0) < 0 && errno == EINTR {}
      status.value = s
      exited.signal()
    }
    var ending: Ending
    if let timeout,
      exited.wait(timeout: .now() + .nanoseconds(Int(timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)))
        == .timedOut
    {
      kill(-pid, SIGKILL)
      exited.wait()
      ending = .timedOut
    } else {
      if timeout == nil { exited.wait() }
      let s = status.value
      ending = (s & 0x7f) == 0 ? .exited((s >> 8) & 0xff) : .signalled(s & 0x7f)
    }
    // What the group's other members still hold open ends with them; a
    // command that leaves a child behind holding stdout is not waited for.
    if drained.wait(timeout: .now() + .seconds(2)) == .timedOut { kill(-pid, SIGKILL) }
    return (ending, lock.withLock { output })
  }

  private final class StatusBox: @unchecked Sendable {
    var value: Int32 = 0
  }
}

import Foundation

/// An exclusive lock on a fixture (`.cthulhu/lock`, flock). A second apply or
/// destroy fails at once and names the holder. The kernel drops the lock
/// when the holder dies, so a crash never leaves it stuck.
public final class FixtureLock: Sendable {
  let fd: Int32
  let path: String

  /// `file` names another lock in `.cthulhu` (the fault record has its own);
  /// `wait` retries that long before giving up (short critical sections only).
  public init(paths: FixturePaths, command: String, file: String? = nil, wait: Duration = .zero) throws {
    try FileManager.default.createDirectory(atPath: paths.stateFolder, withIntermediateDirectories: true)
    let path = file.map { paths.stateFolder + "/" + $0 } ?? paths.lock
    self.path = path
    let deadline = ContinuousClock.now + wait
    while true {
      let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw OrchestratorError.io(path: path, errno: errno) }
      if flock(fd, LOCK_EX | LOCK_NB) == 0 {
        // The holder unlinks the file as it lets go: a lock on an unlinked
        // file is no lock, so check that the path is still this file.
        var a = stat()
        var b = stat()
        if fstat(fd, &a) == 0, stat(path, &b) == 0, a.st_ino == b.st_ino, a.st_dev == b.st_dev {
          self.fd = fd
          break
        }
        close(fd)
        continue
      }
      if ContinuousClock.now >= deadline {
        let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        close(fd)
        throw OrchestratorError.locked(
          "fixture \(paths.root) is locked by \(holder.map { $0.isEmpty ? "another cthulhu" : $0 } ?? "another cthulhu"); wait for it to finish")
      }
      close(fd)
      usleep(20_000)
    }
    ftruncate(fd, 0)
    let text = "pid \(getpid()) (cthulhu \(command)) since \(ISO8601DateFormatter().string(from: Date()))\n"
    _ = text.withCString { write(fd, $0, strlen($0)) }
  }

  /// Releases the lock and removes the file.
  public func release() {
    unlink(path)
    flock(fd, LOCK_UN)
    close(fd)
  }
}

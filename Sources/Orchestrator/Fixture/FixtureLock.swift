import Foundation

/// An exclusive lock on a fixture (`.cthulhu/lock`, flock). A second apply or
/// destroy fails at once and names the holder. The kernel drops the lock
/// when the holder dies, so a crash never leaves it stuck.
public final class FixtureLock: Sendable {
  let fd: Int32
  let path: String

  public init(paths: FixturePaths, command: String) throws {
    try FileManager.default.createDirectory(atPath: paths.stateFolder, withIntermediateDirectories: true)
    path = paths.lock
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw OrchestratorError.io(path: path, errno: errno) }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
      close(fd)
      throw OrchestratorError.locked(
        "fixture \(paths.root) is locked by \(holder.map { $0.isEmpty ? "another cthulhu" : $0 } ?? "another cthulhu"); wait for it to finish")
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

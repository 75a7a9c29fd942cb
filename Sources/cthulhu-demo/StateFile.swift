import Foundation
import Glibc

/// How a node saves what must survive a restart (its term, vote and log).
///
/// Durably (the default): the bytes go to a new file, which is fsynced, then
/// renamed over the old one, and the folder is fsynced, so the new state,
/// and its name, are on stable storage before any answer leaves. Without
/// fsync (`"fsync": false`, the deliberately unsafe mode) the same steps
/// skip both syncs: the node acknowledges what a crash can still take away
/// (`cthulhu kill --lose-unsynced` finds it).
enum StateFile {
  struct SaveError: Error, CustomStringConvertible {
    var step: String
    var path: String
    var code: Int32
    var description: String { "\(step) \(path): \(String(cString: strerror(code)))" }
  }

  static func save(_ data: Data, to path: String, fsync durable: Bool) throws {
    let temporary = path + ".new"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SaveError(step: "open", path: temporary, code: errno) }
    var written = 0
    let ok = data.withUnsafeBytes { raw -> Bool in
      while written < raw.count {
        let n = write(fd, raw.baseAddress! + written, raw.count - written)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        written += n
      }
      return true
    }
    let code = errno
    guard ok else {
      close(fd)
      throw SaveError(step: "write", path: temporary, code: code)
    }
    if durable && fsync(fd) != 0 {
      let code = errno
      close(fd)
      throw SaveError(step: "fsync", path: temporary, code: code)
    }
    close(fd)
    guard rename(temporary, path) == 0 else { throw SaveError(step: "rename", path: temporary, code: errno) }
    guard durable else { return }
    let folder = (path as NSString).deletingLastPathComponent
    let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard dir >= 0 else { throw SaveError(step: "open", path: folder, code: errno) }
    defer { close(dir) }
    guard fsync(dir) == 0 else { throw SaveError(step: "fsync", path: folder, code: errno) }
  }
}

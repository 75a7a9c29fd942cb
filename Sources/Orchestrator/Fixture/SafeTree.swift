import Foundation

/// Removal that cannot leave the folder it is given, by construction.
///
/// Every removal names one entry of an open folder (a single path component,
/// never `.`, `..` or anything with a `/`), and works on descriptors: a
/// folder is descended into with `openat(…, O_DIRECTORY | O_NOFOLLOW)`, its
/// entries are removed with `unlinkat` relative to it, and a symbolic link is
/// removed as a link, never followed. Swapping a folder for a link while a
/// removal runs makes that `openat` fail; it never redirects the removal. A
/// mount point inside the tree is not crossed (its device differs).
enum SafeTree {
  /// Whether `name` can only ever mean an entry of its folder.
  static func isEntryName(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
  }

  /// Opens `path` as a folder without following a final link. Nil when it is
  /// missing, a link, or not a folder.
  static func openFolder(_ path: String) -> Int32? {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    return fd >= 0 ? fd : nil
  }

  /// Removes the entry `name` of the folder open at `parent` (a file, a link,
  /// or a folder with everything below it). A missing entry is fine.
  static func remove(_ name: String, in parent: Int32, displayPath: String) throws {
    guard isEntryName(name) else {
      throw OrchestratorError(.io, "\(displayPath): refusing to remove '\(name)', which is not a single folder entry")
    }
    var st = stat()
    guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return }
      throw OrchestratorError.io(path: displayPath + "/" + name, errno: errno)
    }
    if st.st_mode & S_IFMT == S_IFDIR {
      var top = stat()
      guard fstat(parent, &top) == 0 else { throw OrchestratorError.io(path: displayPath, errno: errno) }
      guard st.st_dev == top.st_dev else {
        throw OrchestratorError(.io, "\(displayPath)/\(name) is a mount point; cthulhu does not remove across mounts (unmount it first)")
      }
      let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
      guard fd >= 0 else { throw OrchestratorError.io(path: displayPath + "/" + name, errno: errno) }
      do {
        for child in try entries(of: fd, displayPath: displayPath + "/" + name) {
          try remove(child, in: fd, displayPath: displayPath + "/" + name)
        }
        close(fd)
      } catch {
        close(fd)
        throw error
      }
      guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
        throw OrchestratorError.io(path: displayPath + "/" + name, errno: errno)
      }
    } else {
      guard unlinkat(parent, name, 0) == 0 || errno == ENOENT else {
        throw OrchestratorError.io(path: displayPath + "/" + name, errno: errno)
      }
    }
  }

  /// Removes `name` inside the folder `folder` (which must be a real folder, not a link).
  static func remove(_ name: String, inFolder folder: String) throws {
    guard let fd = openFolder(folder) else {
      if errno == ENOENT { return }
      throw OrchestratorError(.io, "\(folder) is not a folder cthulhu can remove entries from (missing, a link, or not a folder)")
    }
    defer { close(fd) }
    try remove(name, in: fd, displayPath: folder)
  }

  /// The names in the folder open at `fd` (without `.` and `..`).
  static func entries(of fd: Int32, displayPath: String) throws -> [String] {
    let dup = dup(fd)
    guard dup >= 0, let dir = fdopendir(dup) else { throw OrchestratorError.io(path: displayPath, errno: errno) }
    defer { closedir(dir) }
    var names: [String] = []
    while let e = readdir(dir) {
      let name = withUnsafePointer(to: e.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
  }

  /// The names in `folder`, or nil when it is missing or not a real folder.
  static func entries(ofFolder folder: String) throws -> [String]? {
    guard let fd = openFolder(folder) else { return nil }
    defer { close(fd) }
    return try entries(of: fd, displayPath: folder)
  }

  /// Removes `folder` itself when it is an empty real folder; true when it did.
  @discardableResult
  static func removeIfEmpty(_ folder: String) -> Bool {
    var st = stat()
    guard lstat(folder, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else { return false }
    return rmdir(folder) == 0
  }
}

import Foundation

/// A folder of the fixture held open by descriptor. What lies below it is
/// reached with `openat`, `mkdirat`, `renameat` and `fchown` relative to
/// descriptors and never through a symbolic link: an instance that owns its
/// mount folders (``FileOwner``) could otherwise swap a folder for a link to
/// `/etc` between cthulhu's check and its write or chown, and cthulhu, as
/// root, would write or give away what the link points to.
final class Folder {
  let fd: Int32
  /// For messages.
  let path: String

  /// Opens `path`, refusing a link in its last component (the components
  /// above are cthulhu's own folders).
  convenience init(path: String) throws {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw Self.refusal(path, errno, lstat: { lstat(path, &$0) }) }
    self.init(fd: fd, path: path)
  }

  private init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  deinit { close(fd) }

  /// The folder `name` in this one, made (0755) when it is missing.
  func folder(_ name: String, create: Bool = true) throws -> Folder {
    if create && mkdirat(fd, name, 0o755) != 0 && errno != EEXIST {
      throw OrchestratorError.io(path: path + "/" + name, errno: errno)
    }
    let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard child >= 0 else {
      throw Self.refusal(path + "/" + name, errno, lstat: { fstatat(fd, name, &$0, AT_SYMLINK_NOFOLLOW) })
    }
    return Folder(fd: child, path: path + "/" + name)
  }

  /// Writes `name` whole or not at all: a new temporary file beside it,
  /// fsync (unless not `durable`), rename over it. A link at `name` is
  /// replaced, never followed. With `owner` the file is given to it before
  /// it appears.
  func write(_ name: String, _ data: Data, mode: mode_t = 0o644, owner: FileOwner? = nil, durable: Bool = true) throws {
    let tmp = ".\(name).tmp-\(getpid())"
    var out = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    if out < 0 && errno == EEXIST {
      // Left by a killed cthulhu (or planted): removed, never opened.
      unlinkat(fd, tmp, 0)
      out = openat(fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
    }
    guard out >= 0 else { throw OrchestratorError.io(path: path + "/" + tmp, errno: errno) }
    var ok = data.withUnsafeBytes { buf -> Bool in
      var off = 0
      while off < buf.count {
        let n = Foundation.write(out, buf.baseAddress! + off, buf.count - off)
        if n < 0 { if errno == EINTR { continue }; return false }
        off += n
      }
      return true
    }
    ok = ok && fchmod(out, mode) == 0
    if let owner { ok = ok && fchown(out, owner.uid, owner.gid ?? UInt32.max) == 0 }
    if durable { ok = ok && fsync(out) == 0 }
    let err = errno
    close(out)
    guard ok else {
      unlinkat(fd, tmp, 0)
      throw OrchestratorError.io(path: path + "/" + name, errno: err)
    }
    guard renameat(fd, tmp, fd, name) == 0 else {
      let e = errno
      unlinkat(fd, tmp, 0)
      throw OrchestratorError.io(path: path + "/" + name, errno: e)
    }
  }

  /// Gives this folder and everything below it to `owner`, without
  /// following a link and without leaving the file system it is on. Each
  /// entry is opened (`O_PATH | O_NOFOLLOW`) and the inode opened is the
  /// one given, so nothing swapped in meanwhile is. A file with more than
  /// one hard link is left alone: its other name may be outside the fixture.
  /// Folders deeper than `maxDepth` are left as they are.
  func give(to owner: FileOwner, maxDepth: Int = 64) throws {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
    try give(owner, device: st.st_dev, depth: 0, maxDepth: maxDepth)
    try Self.own(fd, st, owner, path)
  }

  private func give(_ owner: FileOwner, device: dev_t, depth: Int, maxDepth: Int) throws {
    for name in try entries() {
      var st = stat()
      guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }  // gone meanwhile
      if st.st_mode & S_IFMT == S_IFDIR {
        guard st.st_dev == device, depth < maxDepth, let child = try? folder(name, create: false) else { continue }
        guard fstat(child.fd, &st) == 0, st.st_dev == device else { continue }
        try child.give(owner, device: device, depth: depth + 1, maxDepth: maxDepth)
        try Self.own(child.fd, st, owner, child.path)
      } else {
        #if os(Linux)
        let entry = openat(fd, name, Self.pathOnly | O_NOFOLLOW | O_CLOEXEC)
        guard entry >= 0 else { continue }
        defer { close(entry) }
        guard fstat(entry, &st) == 0 else { continue }
        let (at, relative, flags) = (entry, "", Self.emptyPath | AT_SYMLINK_NOFOLLOW)
        #else
        // No O_PATH: the entry as fstatat saw it, never followed if a link.
        let (at, relative, flags) = (fd, name, AT_SYMLINK_NOFOLLOW)
        #endif
        guard st.st_nlink == 1 || st.st_mode & S_IFMT == S_IFLNK, !Self.owned(st, by: owner) else { continue }
        guard fchownat(at, relative, owner.uid, owner.gid ?? UInt32.max, flags) == 0 else {
          throw OrchestratorError.io(path: path + "/" + name, errno: errno)
        }
      }
    }
  }

  private static func owned(_ st: stat, by owner: FileOwner) -> Bool {
    st.st_uid == owner.uid && (owner.gid == nil || st.st_gid == owner.gid!)
  }

  private static func own(_ fd: Int32, _ st: stat, _ owner: FileOwner, _ path: String) throws {
    guard !owned(st, by: owner) else { return }
    guard fchown(fd, owner.uid, owner.gid ?? UInt32.max) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
  }

  /// The names in this folder (not `.` and `..`).
  func entries() throws -> [String] {
    let copy = dup(fd)
    guard copy >= 0, let dir = fdopendir(copy) else {
      if copy >= 0 { close(copy) }
      throw OrchestratorError.io(path: path, errno: errno)
    }
    defer { closedir(dir) }
    rewinddir(dir)
    var names: [String] = []
    while let e = readdir(dir) {
      let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  #if os(Linux)
  // Linux's values; the Swift Glibc module does not export them.
  private static let pathOnly: Int32 = 0o10000000  // O_PATH
  private static let emptyPath: Int32 = 0x1000  // AT_EMPTY_PATH
  #endif

  /// Why a folder could not be opened, in the words the writer has always used.
  private static func refusal(_ path: String, _ err: Int32, lstat: (inout stat) -> Int32) -> OrchestratorError {
    var st = stat()
    if lstat(&st) == 0 {
      if st.st_mode & S_IFMT == S_IFLNK {
        return OrchestratorError(.io, "\(path) is a symbolic link; cthulhu does not write through links (remove it and apply again)")
      }
      if st.st_mode & S_IFMT != S_IFDIR { return OrchestratorError(.io, "\(path) exists and is not a folder") }
    }
    return OrchestratorError.io(path: path, errno: err)
  }
}

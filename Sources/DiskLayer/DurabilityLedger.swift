#if canImport(CFuse)
internal import CFuse
import Glibc
import Orchestrator

/// What the disk layer was told is durable, and what it needs to go back to
/// it: every change reaches the backing folder at once, and the ledger keeps
/// what the last fsync made durable where a change since then overwrote it.
///
/// - Data, per file (by inode): the file's size at its last
///   `fsync`/`fdatasync` and the durable bytes that writes and truncations
///   since then overwrote (``SavedRanges``); a file the ledger has no
///   record of is durable as it stands. A file created through the layer is
///   durably empty until it is fsynced.
/// - Names, per directory (by inode): the directory's entries (name →
///   inode) at its last fsync, taken before the first change since then; a
///   directory with no snapshot is durable as it stands. A directory made
///   through the layer durably holds nothing until it is fsynced. A name
///   that was durable and is removed or replaced keeps its inode alive in
///   the `graveyard` folder until no snapshot names it.
///
/// Not thread-safe: ``DiskLayer`` calls it under its lock. Every method
/// returns 0 or a negated `errno`, as FUSE wants.
final class DurabilityLedger {
  struct FileRecord {
    /// The size the last fsync made durable.
    var durableSize: Int64
    var saved = SavedRanges()
    /// The last write since that fsync (offset, length): the one `--torn` cuts.
    var lastWrite: (offset: Int64, length: Int)?
  }

  /// The backing folder (absolute, no trailing slash).
  let backing: String
  /// Durable inodes without a current name: `<graveyard>/<inode>`.
  let graveyard: String
  /// Where lose-unsynced takes the tree apart: `<staging>/<inode>`.
  let staging: String

  var files: [ino_t: FileRecord] = [:]
  var directories: [ino_t: [String: ino_t]] = [:]
  /// How many snapshot entries name each inode.
  var references: [ino_t: Int] = [:]

  init(backing: String, graveyard: String, staging: String) {
    self.backing = backing
    self.graveyard = graveyard
    self.staging = staging
  }

  /// The backing path of a path in the mount (`/a/b`).
  func real(_ path: String) -> String { path == "/" ? backing : backing + path }

  static func parent(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    return slash == path.startIndex ? "/" : String(path[..<slash])
  }

  static func status(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
  }

  static func isDirectory(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFDIR }

  // MARK: Names

  /// Takes the snapshot of the directory at backing path `dir` unless it has one.
  func directoryWillChange(_ dir: String) -> Int32 {
    guard let st = Self.status(dir) else { return -errno }
    guard directories[st.st_ino] == nil else { return 0 }
    guard let entries = Self.entries(of: dir) else { return -errno }
    directories[st.st_ino] = entries
    for inode in entries.values { references[inode, default: 0] += 1 }
    return 0
  }

  /// The entries of the open folder `fd` (name → inode), or nil with `errno` set.
  static func entries(of fd: Int32) -> [String: ino_t]? {
    let copy = dup(fd)
    guard copy >= 0, let handle = fdopendir(copy) else { return nil }
    defer { closedir(handle) }
    rewinddir(handle)
    return entries(handle)
  }

  /// The entries of a folder (name → inode), or nil with `errno` set.
  static func entries(of dir: String) -> [String: ino_t]? {
    guard let handle = opendir(dir) else { return nil }
    defer { closedir(handle) }
    return entries(handle)
  }

  private static func entries(_ handle: OpaquePointer) -> [String: ino_t] {
    var entries: [String: ino_t] = [:]
    while let entry = readdir(handle) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) {
        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
      }
      if name == "." || name == ".." { continue }
      entries[name] = entry.pointee.d_ino
    }
    return entries
  }

  /// Forgets the snapshot of directory `inode` (its entries are durable as they stand, or it is gone).
  func dropSnapshot(_ inode: ino_t) {
    guard let entries = directories.removeValue(forKey: inode) else { return }
    for child in entries.values {
      references[child, default: 0] -= 1
      if references[child] ?? 0 <= 0 { references[child] = nil }
    }
  }

  /// A file, folder or link was made at backing path `path`: it is durably
  /// empty (a file) or durably without entries (a folder). An inode number
  /// reused from a file removed for good starts from nothing.
  func created(_ path: String) {
    guard let st = Self.status(path) else { return }
    if Self.isDirectory(st) {
      dropSnapshot(st.st_ino)
      directories[st.st_ino] = [:]
    } else if st.st_mode & S_IFMT == S_IFREG {
      files[st.st_ino] = FileRecord(durableSize: 0)
    } else {
      files[st.st_ino] = nil
    }
  }

  /// The directory at backing path `dir` was fsynced: its entries are durable.
  func directorySynced(_ fd: Int32) {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return }
    dropSnapshot(st.st_ino)
    sweepGraveyard()
  }

  func isReferenced(_ inode: ino_t) -> Bool { (references[inode] ?? 0) > 0 }

  func grave(_ inode: ino_t) -> String { graveyard + "/\(inode)" }

  /// Removes (unlink or rmdir) the backing path `path`: into the graveyard
  /// if a snapshot names its inode, for good otherwise.
  func remove(_ path: String, directory: Bool) -> Int32 {
    guard let st = Self.status(path) else { return -errno }
    if directory != Self.isDirectory(st) { return directory ? -ENOTDIR : -EISDIR }
    if directory, let entries = Self.entries(of: path), !entries.isEmpty { return -ENOTEMPTY }
    let rc = directoryWillChange(Self.parent(of: path))
    guard rc == 0 else { return rc }
    if isReferenced(st.st_ino) {
      let grave = grave(st.st_ino)
      // A second name of a hard-linked file: the graveyard holds the inode already.
      if Self.status(grave) != nil { return unlink(path) == 0 ? 0 : -errno }
      return Glibc.rename(path, grave) == 0 ? 0 : -errno
    }
    guard (directory ? rmdir(path) : unlink(path)) == 0 else { return -errno }
    forget(st)
    return 0
  }

  /// An inode that lost a name for good: when that was its last, its records go.
  private func forget(_ st: stat) {
    if Self.isDirectory(st) { dropSnapshot(st.st_ino) } else if st.st_nlink <= 1 { files[st.st_ino] = nil }
  }

  /// Renames backing path `from` to `to`. A durable target it replaces goes
  /// to the graveyard first (a hard link for a file, so the rename stays one
  /// step). `RENAME_EXCHANGE` is refused (EINVAL).
  func rename(_ from: String, _ to: String, flags: UInt32) -> Int32 {
    let noReplace: UInt32 = 1
    guard flags & ~noReplace == 0 else { return -EINVAL }
    guard let source = Self.status(from) else { return -errno }
    for dir in Set([Self.parent(of: from), Self.parent(of: to)]) {
      let rc = directoryWillChange(dir)
      guard rc == 0 else { return rc }
    }
    let target = flags & noReplace == 0 ? Self.status(to) : nil
    var keptInGrave: String?
    var movedToGrave = false
    if let target, target.st_ino != source.st_ino, isReferenced(target.st_ino), Self.status(grave(target.st_ino)) == nil {
      let grave = grave(target.st_ino)
      if Self.isDirectory(target) {
        guard Self.isDirectory(source) else { return -EISDIR }
        if let entries = Self.entries(of: to), !entries.isEmpty { return -ENOTEMPTY }
        guard Glibc.rename(to, grave) == 0 else { return -errno }
        movedToGrave = true
      } else {
        if Self.isDirectory(source) { return -ENOTDIR }
        guard link(to, grave) == 0 else { return -errno }
      }
      keptInGrave = grave
    }
    guard renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) == 0 else {
      let failure = errno
      if let keptInGrave { _ = movedToGrave ? Glibc.rename(keptInGrave, to) : unlink(keptInGrave) }
      return -failure
    }
    if let target, keptInGrave == nil, target.st_ino != source.st_ino, !isReferenced(target.st_ino) { forget(target) }
    return 0
  }

  /// Removes from the graveyard every inode no snapshot names any more
  /// (again, as a removed folder's snapshot may have held the last reference).
  func sweepGraveyard() {
    var removedOne = true
    while removedOne {
      removedOne = false
      guard let entries = Self.entries(of: graveyard) else { return }
      for (name, inode) in entries where !isReferenced(inode) {
        let path = graveyard + "/" + name
        guard let st = Self.status(path) else { continue }
        guard (Self.isDirectory(st) ? rmdir(path) : unlink(path)) == 0 else { continue }
        forget(st)
        removedOne = true
      }
    }
  }

  // MARK: Data

  /// Saves what a change of `start ..< end` in the open file `fd` overwrites
  /// of its durable bytes; `write` says it is a write (the one `--torn` cuts).
  func willChange(_ fd: Int32, _ start: Int64, _ end: Int64, write: Bool) -> Int32 {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return -errno }
    var record = files[st.st_ino] ?? FileRecord(durableSize: Int64(st.st_size))
    for gap in record.saved.gaps(start, min(end, record.durableSize)) {
      var bytes = [UInt8](repeating: 0, count: Int(gap.count))
      let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(gap.lowerBound)) }
      guard got >= 0 else { return -errno }
      // Past the current end of file (it was truncated, and the truncation saved those): zeros.
      record.saved.insert(start: gap.lowerBound, bytes: bytes)
    }
    if write { record.lastWrite = (start, Int(end - start)) }
    files[st.st_ino] = record
    return 0
  }

  /// `fd`'s file was truncated or extended to `size`.
  func willTruncate(_ fd: Int32, to size: Int64) -> Int32 {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return -errno }
    // Growing changes no durable byte, but the size is not durable either.
    return willChange(fd, min(size, Int64(st.st_size)), Int64(st.st_size), write: false)
  }

  /// `fd`'s file was fsynced (or fdatasynced): its content is durable.
  func synced(_ fd: Int32) {
    var st = stat()
    if fstat(fd, &st) == 0 { files[st.st_ino] = nil }
  }

  /// Everything as it stands is durable, as after `sync(2)` (or the
  /// kernel's own write-back): every file's content and every folder's
  /// entries; the graveyard empties. Returns what it made durable.
  func syncAll() -> DiskLayerStatus {
    let before = DiskLayerStatus(
      unsyncedFiles: files.count, savedBytes: files.values.reduce(0) { $0 + $1.saved.byteCount }, changedDirectories: directories.count)
    files = [:]
    for inode in Array(directories.keys) { dropSnapshot(inode) }
    sweepGraveyard()
    return before
  }
}
#endif

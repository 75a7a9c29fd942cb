import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the state's files were when a plan read them: device, inode, size
/// and change times of `state.json` and of its journal. Under the fixture
/// lock, `apply` compares a new stat with it (``FixtureState/unchanged(since:root:)``)
/// instead of reading and decoding the state again: a snapshot is replaced
/// by rename (a new inode), a journal grows by appends (a new size and time).
public struct StateStamp: Sendable, Hashable {
  /// The snapshot's stamp, nil when there was none; the journal's, when the snapshot names one.
  var snapshot: FileStamp?
  var journal: FileStamp?
  var journalID: String?
}

struct FileStamp: Sendable, Hashable {
  var device: UInt64
  var inode: UInt64
  var size: Int64
  var modified: Int64
  var changed: Int64

  init(_ st: stat) {
    device = UInt64(st.st_dev)
    inode = UInt64(st.st_ino)
    size = Int64(st.st_size)
    modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    changed = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
  }

  /// The file's stamp now; nil when it does not exist.
  static func of(_ path: String) -> FileStamp? {
    var st = stat()
    return stat(path, &st) == 0 ? FileStamp(st) : nil
  }

  /// The file's bytes and the stamp of exactly those bytes (nil when it
  /// does not exist): read through one descriptor, and read again when the
  /// file grew while it was read.
  static func read(_ path: String) throws -> (data: Data, stamp: FileStamp)? {
    while true {
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      guard fd >= 0 else {
        if errno == ENOENT { return nil }
        throw OrchestratorError.io(path: path, errno: errno)
      }
      let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
      var before = stat()
      guard fstat(fd, &before) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
      let data = try handle.readToEnd() ?? Data()
      var after = stat()
      guard fstat(fd, &after) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
      let stamp = FileStamp(after)
      if stamp == FileStamp(before), Int64(data.count) == stamp.size { return (data, stamp) }
    }
  }
}

extension FixtureState {
  /// True when the state's files at `root` are still those `stamp` saw: no
  /// apply, destroy or person has written them since.
  static func unchanged(since stamp: StateStamp, root: String) -> Bool {
    guard FileStamp.of(path(root: root)) == stamp.snapshot else { return false }
    guard let id = stamp.journalID else { return stamp.journal == nil }
    return FileStamp.of(StateJournal.path(root: root, id: id)) == stamp.journal
  }
}

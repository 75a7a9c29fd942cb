#if canImport(Glibc)
import Glibc

/// The regular files under a folder, found without following a symbolic
/// link or leaving the folder's file system, and opened the same way: each
/// step from the folder down with `openat(O_NOFOLLOW)`, the file checked
/// to be the regular file the walk found. What ``DiskCorruption`` changes.
struct FolderWalk {
  /// A regular file found by the walk.
  struct File {
    /// Inside the folder, from `/`.
    var path: String
    var components: [String]
    var device: dev_t
    var inode: ino_t
    var size: Int64
  }

  let folder: String
  private let root: Int32
  private let device: dev_t

  init(_ folder: String) throws(DiskCorruptionError) {
    self.folder = folder
    root = Glibc.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard root >= 0 else { throw .io(path: folder, errno: errno) }
    var st = stat()
    guard fstat(root, &st) == 0 else {
      let failure = errno
      Glibc.close(root)
      throw .io(path: folder, errno: failure)
    }
    device = st.st_dev
  }

  func close() { Glibc.close(root) }

  /// Every regular file, sorted by path; a file with several names once, under its first.
  func regularFiles() throws(DiskCorruptionError) -> [File] {
    var files: [File] = []
    var seen: Set<ino_t> = []
    let copy = dup(root)
    guard copy >= 0 else { throw .io(path: folder, errno: errno) }
    try walk(copy, [], into: &files, seen: &seen)
    return files
  }

  /// Walks the folder open as `fd` (and closes it), at `components` below the root.
  private func walk(_ fd: Int32, _ components: [String], into files: inout [File], seen: inout Set<ino_t>) throws(DiskCorruptionError) {
    guard let handle = fdopendir(fd) else {
      let failure = errno
      Glibc.close(fd)
      throw .io(path: path(components), errno: failure)
    }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
      if name != ".", name != ".." { names.append(name) }
    }
    for name in names.sorted() {
      var st = stat()
      guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, st.st_dev == device else { continue }
      let below = components + [name]
      switch st.st_mode & S_IFMT {
      case S_IFREG:
        if seen.insert(st.st_ino).inserted {
          files.append(File(path: path(below), components: below, device: st.st_dev, inode: st.st_ino, size: Int64(st.st_size)))
        }
      case S_IFDIR:
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else { throw .io(path: path(below), errno: errno) }
        try walk(child, below, into: &files, seen: &seen)
      default:
        continue  // symbolic links, devices, fifos, sockets: never followed nor changed
      }
    }
  }

  /// `file` opened for reading and writing, each step from the folder with
  /// `O_NOFOLLOW`; refused if it is no longer the regular file the walk found.
  func open(_ file: File) throws(DiskCorruptionError) -> Int32 {
    var fd = dup(root)
    guard fd >= 0 else { throw .io(path: folder, errno: errno) }
    for (k, name) in file.components.enumerated() {
      let last = k == file.components.count - 1
      let flags = last ? O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC : O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
      let next = openat(fd, name, flags)
      let failure = errno
      Glibc.close(fd)
      guard next >= 0 else { throw .io(path: path(Array(file.components[...k])), errno: failure) }
      fd = next
    }
    var st = stat()
    guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_dev == file.device, st.st_ino == file.inode else {
      Glibc.close(fd)
      throw .io(path: folder + file.path, errno: ESTALE)
    }
    return fd
  }

  private func path(_ components: [String]) -> String { "/" + components.joined(separator: "/") }
}
#endif

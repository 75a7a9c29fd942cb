import Foundation

/// What the swarm driver does with an instance's folder: copies it into a
/// container (``tarEntries(at:skipping:)``) and appends what the engine
/// logged to the instance's log (``append(_:_:)``), by descriptor as every
/// other write below `bindmounts` (see ``Folder``).
extension Folder {
  /// Appends `data` to the file `name`, made (0644) when missing; a link at
  /// `name` is refused, never followed.
  func append(_ name: String, _ data: Data) throws {
    let out = openat(fd, name, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard out >= 0 else { throw OrchestratorError.io(path: path + "/" + name, errno: errno) }
    defer { close(out) }
    let ok = data.withUnsafeBytes { buf -> Bool in
      var off = 0
      while off < buf.count {
        let n = Foundation.write(out, buf.baseAddress! + off, buf.count - off)
        if n < 0 {
          if errno == EINTR { continue }
          return false
        }
        off += n
      }
      return true
    }
    guard ok else { throw OrchestratorError.io(path: path + "/" + name, errno: errno) }
  }

  /// This folder's entry and everything below it as archive entries named
  /// from `base` (relative, no leading slash), each with its mode, owner and time:
  /// folders, regular files, and links as links (never followed). Names
  /// for which `skipping` is true (relative to this folder) are left out,
  /// as is anything that is neither; entries sorted, folders first.
  func tarEntries(at base: String, skipping: (String) -> Bool = { _ in false }, maxDepth: Int = 64) throws -> [Tar.Entry] {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
    var out = [Self.entry(base, st, .folder)]
    try collect(into: &out, base: base, relative: "", skipping: skipping, depth: 0, maxDepth: maxDepth)
    return out
  }

  private func collect(
    into out: inout [Tar.Entry], base: String, relative: String, skipping: (String) -> Bool, depth: Int, maxDepth: Int
  ) throws {
    for name in try entries().sorted() {
      let rel = relative.isEmpty ? name : relative + "/" + name
      guard !skipping(rel) else { continue }
      var st = stat()
      guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }  // gone meanwhile
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        guard depth < maxDepth else { continue }
        let child = try folder(name, create: false)
        guard fstat(child.fd, &st) == 0 else { continue }
        out.append(Self.entry(base + "/" + rel, st, .folder))
        try child.collect(into: &out, base: base, relative: rel, skipping: skipping, depth: depth + 1, maxDepth: maxDepth)
      case S_IFLNK:
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(fd, name, &buf, buf.count - 1)
        guard n >= 0 else { continue }
        let dest = String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        out.append(Self.entry(base + "/" + rel, st, .link(dest)))
      case S_IFREG:
        let (data, opened) = try read(name)
        out.append(Self.entry(base + "/" + rel, opened, .file(data)))
      default:
        continue
      }
    }
  }

  /// The regular file `name`, whole, with its stat as opened (no link followed).
  func read(_ name: String) throws -> ([UInt8], stat) {
    let input = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard input >= 0 else { throw OrchestratorError.io(path: path + "/" + name, errno: errno) }
    defer { close(input) }
    var st = stat()
    guard fstat(input, &st) == 0 else { throw OrchestratorError.io(path: path + "/" + name, errno: errno) }
    guard st.st_mode & S_IFMT == S_IFREG else { throw OrchestratorError(.io, "\(path)/\(name) is not a regular file") }
    var data: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = Foundation.read(input, &chunk, chunk.count)
      if n < 0 {
        if errno == EINTR { continue }
        throw OrchestratorError.io(path: path + "/" + name, errno: errno)
      }
      if n == 0 { break }
      data += chunk[..<n]
    }
    return (data, st)
  }

  /// This folder's own mode and owner.
  func status() throws -> stat {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw OrchestratorError.io(path: path, errno: errno) }
    return st
  }

  /// The entry `name`'s own mode and owner (a link's, not its target's); nil when missing.
  func status(of name: String) -> stat? {
    var st = stat()
    return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
  }

  static func entry(_ path: String, _ st: stat, _ kind: Tar.Entry.Kind) -> Tar.Entry {
    Tar.Entry(
      path: path, mode: Int(st.st_mode & 0o7777), kind: kind, uid: Int(st.st_uid), gid: Int(st.st_gid), mtime: Int(st.st_mtim.tv_sec))
  }
}

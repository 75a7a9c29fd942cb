import Foundation

/// A minimal ustar writer: build contexts (regular files and folders, modes
/// kept, owners zeroed; symbolic links stored as links; `.dockerignore` is
/// not read, the whole folder is sent), and archives made in memory with
/// owners of their own (the swarm driver's copies of an instance's files).
enum Tar {
  static func archive(folder: String) throws -> [UInt8] {
    var out: [UInt8] = []
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: folder) else {
      throw DriverError(.buildFailed, "\(folder): build context is not a readable folder")
    }
    var entries: [String] = []
    while let rel = walker.nextObject() as? String { entries.append(rel) }
    for rel in entries.sorted() {
      let full = folder + "/" + rel
      var st = stat()
      guard lstat(full, &st) == 0 else { continue }
      let mode = Int(st.st_mode & 0o7777)
      switch st.st_mode & S_IFMT {
      case S_IFDIR:
        out += try header(name: rel + "/", mode: mode, size: 0, type: "5")
      case S_IFLNK:
        let dest = try fm.destinationOfSymbolicLink(atPath: full)
        out += try header(name: rel, mode: mode, size: 0, type: "2", link: dest)
      case S_IFREG:
        guard let data = fm.contents(atPath: full) else { throw DriverError(.buildFailed, "\(full): unreadable") }
        out += try header(name: rel, mode: mode, size: data.count, type: "0")
        out += data
        out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
      default: continue
      }
    }
    out += [UInt8](repeating: 0, count: 1024)
    return out
  }

  /// One entry of an archive made in memory (``archive(entries:)``).
  struct Entry: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
      case folder
      case file([UInt8])
      case link(String)
    }
    /// Relative, without a leading slash: `usr/sbin/tc`.
    var path: String
    var mode: Int
    var kind: Kind
    /// Numeric owner and group, as the engine sets them when it unpacks.
    var uid: Int = 0
    var gid: Int = 0
    /// Modification time, UNIX seconds (0 where the bytes must not depend on it).
    var mtime: Int = 0
  }

  /// An archive of `entries` in the order given (folders before what they
  /// hold), with their owners and times: the same entries give the same bytes.
  static func archive(entries: [Entry]) throws -> [UInt8] {
    var out: [UInt8] = []
    for e in entries {
      switch e.kind {
      case .folder:
        out += try header(name: e.path + "/", mode: e.mode, size: 0, type: "5", uid: e.uid, gid: e.gid, mtime: e.mtime)
      case .link(let dest):
        out += try header(name: e.path, mode: e.mode, size: 0, type: "2", link: dest, uid: e.uid, gid: e.gid, mtime: e.mtime)
      case .file(let data):
        out += try header(name: e.path, mode: e.mode, size: data.count, type: "0", uid: e.uid, gid: e.gid, mtime: e.mtime)
        out += data
        out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
      }
    }
    out += [UInt8](repeating: 0, count: 1024)
    return out
  }

  static func header(
    name: String, mode: Int, size: Int, type: Character, link: String = "", uid: Int = 0, gid: Int = 0, mtime: Int = 0
  ) throws -> [UInt8] {
    var h = [UInt8](repeating: 0, count: 512)
    func put(_ s: String, _ at: Int, _ len: Int) throws {
      let b = Array(s.utf8)
      guard b.count <= len else { throw DriverError(.buildFailed, "path too long for a ustar archive: \(name)") }
      h.replaceSubrange(at..<(at + b.count), with: b)
    }
    func octal(_ v: Int, _ at: Int, _ len: Int) throws {
      try put(String(repeating: "0", count: max(0, len - 1 - String(v, radix: 8).count)) + String(v, radix: 8), at, len - 1)
    }
    var n = name
    var prefix = ""
    if n.utf8.count > 100, let cut = n.utf8.count > 255 ? nil : n.lastIndex(of: "/", before: 155) {
      prefix = String(n[..<cut])
      n = String(n[n.index(after: cut)...])
    }
    try put(n, 0, 100)
    try octal(mode, 100, 8)
    // (ustar's 7 octal digits hold ids below 2^21; a larger one would need
    // a pax header, which no instance's owner here has.)
    guard (0..<0o7777777).contains(uid), (0..<0o7777777).contains(gid) else {
      throw DriverError(.unsupported, "owner \(uid):\(gid) of \(name) is too large for a ustar archive")
    }
    try octal(uid, 108, 8)
    try octal(gid, 116, 8)
    try octal(size, 124, 12)
    try octal(max(0, mtime), 136, 12)
    h.replaceSubrange(148..<156, with: [UInt8](repeating: 32, count: 8))
    h[156] = UInt8(ascii: type.unicodeScalars.first!)
    try put(link, 157, 100)
    try put("ustar", 257, 6)
    try put("00", 263, 2)
    try put(prefix, 345, 155)
    let sum = h.reduce(0) { $0 + Int($1) }
    try octal(sum, 148, 7)
    h[155] = 32
    return h
  }
}

extension String {
  /// The last `/` whose offset is below `limit` (for splitting long tar names).
  func lastIndex(of c: Character, before limit: Int) -> Index? {
    var found: Index?
    var offset = 0
    for i in indices {
      if offset >= limit { break }
      if self[i] == c { found = i }
      offset += 1
    }
    return found
  }
}

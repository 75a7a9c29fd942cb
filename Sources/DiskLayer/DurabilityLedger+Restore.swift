#if canImport(CFuse)
internal import CFuse
import Glibc
import Orchestrator

extension DurabilityLedger {
  /// The backing tree as it stands: every folder's entries, where each inode is, which are folders.
  struct Tree {
    var entries: [ino_t: [String: ino_t]] = [:]
    var location: [ino_t: String] = [:]
    var folders: Set<ino_t> = []
  }

  func scan(_ dir: String, inode: ino_t, into tree: inout Tree) {
    tree.folders.insert(inode)
    tree.location[inode] = tree.location[inode] ?? dir
    let entries = Self.entries(of: dir) ?? [:]
    tree.entries[inode] = entries
    for (name, child) in entries {
      let path = dir + "/" + name
      guard let st = Self.status(path) else { continue }
      if Self.isDirectory(st) { scan(path, inode: st.st_ino, into: &tree) } else { tree.location[child] = tree.location[child] ?? path }
    }
  }

  /// Rolls the backing folder back to what was made durable, then forgets
  /// every record (what is left is durable). `torn`: the last unsynced write
  /// of each file keeps a prefix of 1 to length − 1 bytes drawn from `seed`.
  func loseUnsynced(torn: Bool, seed: UInt64) -> LossReport {
    guard let root = Self.status(backing) else { return LossReport(files: 0, bytesRestored: 0, namesRemoved: 0, torn: []) }
    var tree = Tree()
    scan(backing, inode: root.st_ino, into: &tree)
    scan(graveyard, inode: Self.status(graveyard)?.st_ino ?? 0, into: &tree)
    var report = LossReport(files: 0, bytesRestored: 0, namesRemoved: 0, torn: [])
    var tornAt: [ino_t: LossReport.Torn] = [:]
    var random = SeededGenerator(seed: seed)
    // Data first, where each file is now: sorted by path so a seed repeats.
    let records = files.compactMap { inode, record in tree.location[inode].map { (inode, $0, record) } }.sorted { $0.1 < $1.1 }
    for (inode, path, record) in records {
      let fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
      guard fd >= 0 else { continue }
      defer { close(fd) }
      var surviving: [UInt8] = []
      if torn, let last = record.lastWrite, last.length > 1 {
        let keep = Int.random(in: 1..<last.length, using: &random)
        surviving = [UInt8](repeating: 0, count: keep)
        let got = surviving.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(last.offset)) }
        surviving.removeLast(keep - max(0, got))
        tornAt[inode] = LossReport.Torn(path: "", offset: last.offset, kept: surviving.count, length: last.length)
      }
      _ = ftruncate(fd, off_t(record.durableSize))
      for piece in record.saved.pieces {
        _ = piece.bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(piece.start)) }
        report.bytesRestored += piece.bytes.count
      }
      if let last = record.lastWrite, !surviving.isEmpty {
        _ = surviving.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(last.offset)) }
      }
      report.files += 1
    }
    var placed: [ino_t: String] = [:]
    if directories.isEmpty, tree.entries[Self.status(graveyard)?.st_ino ?? 0]?.isEmpty ?? true {
      placed = tree.location
    } else {
      report.namesRemoved = restoreNames(root: root.st_ino, tree: tree, placed: &placed)
    }
    for (inode, cut) in tornAt.sorted(by: { $0.key < $1.key }) {
      guard let path = placed[inode] else { continue }
      var cut = cut
      cut.path = String(path.dropFirst(backing.count))
      report.torn.append(cut)
    }
    report.torn.sort { $0.path < $1.path }
    files = [:]
    directories = [:]
    references = [:]
    return report
  }

  /// Takes every name apart into `staging` (by inode), then puts back the
  /// durable tree from the root down; removes what no durable name reaches.
  /// Returns how many inodes were removed.
  private func restoreNames(root: ino_t, tree: Tree, placed: inout [ino_t: String]) -> Int {
    detach(backing)
    detach(graveyard)
    placed[root] = backing
    var visited: Set<ino_t> = [root]
    attach(backing, inode: root, tree: tree, placed: &placed, visited: &visited)
    var removed = 0
    for name in (Self.entries(of: staging) ?? [:]).keys {
      removeTree(staging + "/" + name)
      removed += 1
    }
    return removed
  }

  /// Moves every entry under `dir` (deepest first) to `<staging>/<inode>`.
  private func detach(_ dir: String) {
    for name in (Self.entries(of: dir) ?? [:]).keys {
      let path = dir + "/" + name
      guard let st = Self.status(path) else { continue }
      if Self.isDirectory(st) { detach(path) }
      let target = staging + "/\(st.st_ino)"
      // A second name of a hard-linked file: staging holds the inode already.
      if Self.status(target) != nil { _ = unlink(path) } else { _ = Glibc.rename(path, target) }
    }
  }

  /// Puts back the durable entries of folder `inode` at `dir`.
  private func attach(_ dir: String, inode: ino_t, tree: Tree, placed: inout [ino_t: String], visited: inout Set<ino_t>) {
    let durable = directories[inode] ?? tree.entries[inode] ?? [:]
    for (name, child) in durable.sorted(by: { $0.key < $1.key }) {
      let path = dir + "/" + name
      if let first = placed[child] {
        // A hard link (folders have one name; a second is skipped).
        if !tree.folders.contains(child) { _ = link(first, path) }
        continue
      }
      guard Glibc.rename(staging + "/\(child)", path) == 0 else { continue }
      placed[child] = path
      if tree.folders.contains(child), visited.insert(child).inserted {
        attach(path, inode: child, tree: tree, placed: &placed, visited: &visited)
      }
    }
  }

  private func removeTree(_ path: String) {
    guard let st = Self.status(path) else { return }
    if Self.isDirectory(st) {
      for name in (Self.entries(of: path) ?? [:]).keys { removeTree(path + "/" + name) }
      _ = rmdir(path)
    } else {
      _ = unlink(path)
    }
  }
}
#endif

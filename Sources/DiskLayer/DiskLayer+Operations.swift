#if canImport(CFuse)
internal import CFuse
import Glibc
import Manifest
import Orchestrator

/// The FUSE operations: each passes the call to the backing folder and
/// tells the ledger first what it changes. Open files keep a backing file
/// descriptor in `fh`. Results are 0 (or a count) or a negated `errno`.
private enum Ops {
  /// The layer of the calling FUSE request.
  static var current: DiskLayer {
    Unmanaged<DiskLayer>.fromOpaque(fuse_get_context()!.pointee.private_data).takeUnretainedValue()
  }

  /// Runs `body`, operation `op`, under the layer's lock with the backing
  /// path of `path` ("/" when libfuse gives none: an open file's calls),
  /// unless a rule fails it first; a rule's delay is waited before, with
  /// no lock held. `fi` names the open file when `path` is nil; `also` is
  /// the other path of a rename or link (a rule's path may match either).
  static func at(
    _ op: DiskOperation, _ path: UnsafePointer<CChar>?, _ fi: UnsafeMutablePointer<fuse_file_info>? = nil,
    also: UnsafePointer<CChar>? = nil, _ body: (DurabilityLedger, String) -> Int32
  ) -> Int32 {
    let layer = current
    let name = path.map { String(cString: $0) }
    let verdict = layer.faults.verdict(op) {
      var names = name.map { [$0] } ?? fd(fi).flatMap { layer.name(ofOpen: $0) }.map { [$0] } ?? []
      if let also { names.append(String(cString: also)) }
      return names
    }
    if verdict.delay > .zero { DiskFaults.wait(verdict.delay) }
    if let errno = verdict.errno { return -errno }
    return layer.locked { body($0, $0.real(name ?? "/")) }
  }

  static func result(_ rc: Int32) -> Int32 { rc < 0 ? -errno : 0 }

  /// The calling process's owner for what it creates (the layer runs as root).
  static func own(_ path: String) {
    guard getuid() == 0, let context = fuse_get_context() else { return }
    _ = lchown(path, context.pointee.uid, context.pointee.gid)
  }

  /// A file, folder, node or link made by `make` at `path`: its folder
  /// changes, its owner is the caller, and the ledger starts it empty.
  static func make(_ ledger: DurabilityLedger, _ path: String, _ make: () -> Int32) -> Int32 {
    let rc = ledger.directoryWillChange(DurabilityLedger.parent(of: path))
    guard rc == 0 else { return rc }
    guard make() >= 0 else { return -errno }
    own(path)
    ledger.created(path)
    return 0
  }

  /// Opens a backing file for reading and writing whatever the caller asked
  /// (the ledger reads what a write overwrites; the kernel checked the
  /// caller's rights), or as asked where that is refused (a running binary).
  static func open(_ path: String, _ flags: Int32) -> Int32 {
    let fd = Glibc.open(path, flags & ~O_ACCMODE | O_RDWR | O_CLOEXEC)
    return fd >= 0 ? fd : Glibc.open(path, flags | O_CLOEXEC)
  }

  static func fd(_ fi: UnsafeMutablePointer<fuse_file_info>?) -> Int32? { fi.map { Int32(truncatingIfNeeded: $0.pointee.fh) } }
}

extension DiskLayer {
  static func operations() -> fuse_operations {
    var ops = fuse_operations()
    ops.`init` = { _, config in
      // No kernel cache of names or attributes: lose-unsynced changes the
      // backing folder behind the kernel's back. Unlinked open files stay
      // usable through their descriptor (hard_remove: no .fuse_hidden files).
      config?.pointee.use_ino = 1
      config?.pointee.hard_remove = 1
      // Calls on an open file or folder use its descriptor: libfuse need not
      // work out its path (nor can it, for an unlinked one).
      config?.pointee.nullpath_ok = 1
      config?.pointee.entry_timeout = 0
      config?.pointee.negative_timeout = 0
      config?.pointee.attr_timeout = 0
      return fuse_get_context()!.pointee.private_data
    }
    ops.getattr = { path, st, fi in
      Ops.at(.getattr, path, fi) { _, real in
        guard let st else { return -EINVAL }
        if let fd = Ops.fd(fi) { return Ops.result(fstat(fd, st)) }
        return Ops.result(lstat(real, st))
      }
    }
    ops.readlink = { path, buffer, size in
      Ops.at(.readlink, path) { _, real in
        guard let buffer, size > 0 else { return -EINVAL }
        let n = readlink(real, buffer, size - 1)
        guard n >= 0 else { return -errno }
        buffer[n] = 0
        return 0
      }
    }
    ops.mknod = { path, mode, device in Ops.at(.mknod, path) { ledger, real in Ops.make(ledger, real) { mknod(real, mode, device) } } }
    ops.mkdir = { path, mode in Ops.at(.mkdir, path) { ledger, real in Ops.make(ledger, real) { mkdir(real, mode) } } }
    ops.symlink = { target, path in Ops.at(.symlink, path) { ledger, real in Ops.make(ledger, real) { symlink(target!, real) } } }
    ops.unlink = { path in Ops.at(.unlink, path) { ledger, real in ledger.remove(real, directory: false) } }
    ops.rmdir = { path in Ops.at(.rmdir, path) { ledger, real in ledger.remove(real, directory: true) } }
    ops.rename = { from, to, flags in
      Ops.at(.rename, from, also: to) { ledger, real in ledger.rename(real, ledger.real(String(cString: to!)), flags: flags) }
    }
    ops.link = { from, to in
      Ops.at(.link, to, also: from) { ledger, real in
        let rc = ledger.directoryWillChange(DurabilityLedger.parent(of: real))
        return rc == 0 ? Ops.result(link(ledger.real(String(cString: from!)), real)) : rc
      }
    }
    ops.chmod = { path, mode, fi in
      Ops.at(.chmod, path, fi) { _, real in
        if let fd = Ops.fd(fi) { return Ops.result(fchmod(fd, mode)) }
        return Ops.result(chmod(real, mode))
      }
    }
    ops.chown = { path, uid, gid, fi in
      Ops.at(.chown, path, fi) { _, real in
        if let fd = Ops.fd(fi) { return Ops.result(fchown(fd, uid, gid)) }
        return Ops.result(lchown(real, uid, gid))
      }
    }
    ops.truncate = { path, size, fi in
      Ops.at(.truncate, path, fi) { ledger, real in
        let fd = Ops.fd(fi) ?? Ops.open(real, O_WRONLY)
        guard fd >= 0 else { return -errno }
        defer { if fi == nil { close(fd) } }
        let rc = ledger.willTruncate(fd, to: Int64(size))
        return rc == 0 ? Ops.result(ftruncate(fd, size)) : rc
      }
    }
    ops.open = { path, fi in
      Ops.at(.open, path) { ledger, real in
        guard let fi else { return -EINVAL }
        // The kernel gives every write its offset (O_APPEND included);
        // O_TRUNC goes through the ledger like a truncation.
        let fd = Ops.open(real, fi.pointee.flags & ~(O_APPEND | O_TRUNC | O_CREAT | O_EXCL))
        guard fd >= 0 else { return -errno }
        if fi.pointee.flags & O_TRUNC != 0 {
          var rc = ledger.willTruncate(fd, to: 0)
          if rc == 0 { rc = Ops.result(ftruncate(fd, 0)) }
          guard rc == 0 else {
            close(fd)
            return rc
          }
        }
        fi.pointee.fh = UInt64(fd)
        return 0
      }
    }
    ops.create = { path, mode, fi in
      Ops.at(.create, path) { ledger, real in
        guard let fi else { return -EINVAL }
        if DurabilityLedger.status(real) != nil { return -EEXIST }
        var fd: Int32 = -1
        let flags = fi.pointee.flags & ~(O_APPEND | O_TRUNC | O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC
        let rc = Ops.make(ledger, real) {
          fd = open(real, flags, mode)
          return fd
        }
        if rc == 0 { fi.pointee.fh = UInt64(fd) }
        return rc
      }
    }
    ops.read = { path, buffer, size, offset, fi in
      Ops.at(.read, path, fi) { _, _ in
        guard let fd = Ops.fd(fi) else { return -EBADF }
        let n = pread(fd, buffer, size, offset)
        return n < 0 ? -errno : Int32(n)
      }
    }
    ops.write = { path, buffer, size, offset, fi in
      Ops.at(.write, path, fi) { ledger, _ in
        guard let fd = Ops.fd(fi) else { return -EBADF }
        let rc = ledger.willChange(fd, Int64(offset), Int64(offset) + Int64(size), write: true)
        guard rc == 0 else { return rc }
        let n = pwrite(fd, buffer, size, offset)
        return n < 0 ? -errno : Int32(n)
      }
    }
    ops.statfs = { path, st in Ops.at(.statfs, path) { ledger, _ in Ops.result(statvfs(ledger.backing, st!)) } }
    ops.release = { _, fi in
      if let fd = Ops.fd(fi) { close(fd) }
      return 0
    }
    ops.fsync = { path, dataOnly, fi in
      Ops.at(.fsync, path, fi) { ledger, _ in
        guard let fd = Ops.fd(fi) else { return -EBADF }
        guard (dataOnly != 0 ? fdatasync(fd) : fsync(fd)) == 0 else { return -errno }
        ledger.synced(fd)
        return 0
      }
    }
    ops.opendir = { path, fi in
      Ops.at(.opendir, path) { _, real in
        let fd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -errno }
        fi?.pointee.fh = UInt64(fd)
        return 0
      }
    }
    ops.releasedir = { _, fi in
      if let fd = Ops.fd(fi) { close(fd) }
      return 0
    }
    ops.readdir = { path, buffer, fill, _, fi, _ in
      Ops.at(.readdir, path, fi) { _, real in
        guard let entries = Ops.fd(fi).map({ DurabilityLedger.entries(of: $0) }) ?? DurabilityLedger.entries(of: real) else { return -errno }
        _ = fill?(buffer, ".", nil, 0, fuse_fill_dir_flags(0))
        _ = fill?(buffer, "..", nil, 0, fuse_fill_dir_flags(0))
        for name in entries.keys.sorted() where fill?(buffer, name, nil, 0, fuse_fill_dir_flags(0)) != 0 { break }
        return 0
      }
    }
    ops.fsyncdir = { path, _, fi in
      Ops.at(.fsyncdir, path, fi) { ledger, _ in
        guard let fd = Ops.fd(fi) else { return -EBADF }
        guard fsync(fd) == 0 else { return -errno }
        ledger.directorySynced(fd)
        return 0
      }
    }
    ops.access = { path, mode in Ops.at(.access, path) { _, real in Ops.result(access(real, mode)) } }
    ops.utimens = { path, times, fi in
      Ops.at(.utimens, path, fi) { _, real in
        if let fd = Ops.fd(fi) { return Ops.result(futimens(fd, times)) }
        return Ops.result(utimensat(AT_FDCWD, real, times, AT_SYMLINK_NOFOLLOW))
      }
    }
    ops.fallocate = { path, mode, offset, length, fi in
      // Only allocation (mode 0) changes no byte: the other modes punch or
      // zero ranges, which the ledger does not save.
      guard mode == 0 else { return -EOPNOTSUPP }
      return Ops.at(.fallocate, path, fi) { _, _ in
        guard let fd = Ops.fd(fi) else { return -EBADF }
        return -posix_fallocate(fd, offset, length)
      }
    }
    return ops
  }
}
#endif

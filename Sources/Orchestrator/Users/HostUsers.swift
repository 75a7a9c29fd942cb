import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A user of this machine as its user database (`/etc/passwd`, NSS) has it.
public struct HostUser: Sendable, Hashable {
  public var name: String
  public var uid: UInt32
  /// The primary group.
  public var gid: UInt32
  public var home: String

  public init(name: String, uid: UInt32, gid: UInt32, home: String) {
    self.name = name
    self.uid = uid
    self.gid = gid
    self.home = home
  }
}

/// What resolving `user:` reads of the host: who this process is, its users
/// and groups, and who owns a folder. ``SystemUsers`` asks the C library;
/// tests give a table.
public protocol HostUsers: Sendable {
  /// This process's effective uid and gid.
  var current: (uid: UInt32, gid: UInt32) { get }
  func user(named name: String) -> HostUser?
  func user(uid: UInt32) -> HostUser?
  /// The gid of a group name.
  func group(named name: String) -> UInt32?
  /// Owner and group of `path` itself (a final link is not followed); nil
  /// when it cannot be read.
  func owner(of path: String) -> (uid: UInt32, gid: UInt32)?
  /// The permission bits, owner and group of `path` (following links);
  /// nil when it does not exist or cannot be read.
  func access(of path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)?
  /// Every group a user is in: its primary group `gid` and the
  /// supplementary ones the group database lists.
  func groups(uid: UInt32, gid: UInt32) -> Set<UInt32>
}

/// The host's user database through the C library's reentrant calls (so
/// NSS sources such as LDAP count, as they do for `id`).
public struct SystemUsers: HostUsers {
  public init() {}

  public var current: (uid: UInt32, gid: UInt32) { (geteuid(), getegid()) }

  public func user(named name: String) -> HostUser? {
    Self.withBuffer { buffer in
      var entry = passwd()
      var result: UnsafeMutablePointer<passwd>?
      let rc = getpwnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result)
      return (rc, result == nil ? nil : Self.user(entry))
    }
  }

  public func user(uid: UInt32) -> HostUser? {
    Self.withBuffer { buffer in
      var entry = passwd()
      var result: UnsafeMutablePointer<passwd>?
      let rc = getpwuid_r(uid, &entry, buffer.baseAddress!, buffer.count, &result)
      return (rc, result == nil ? nil : Self.user(entry))
    }
  }

  public func group(named name: String) -> UInt32? {
    Self.withBuffer { buffer in
      var entry = Glibc.group()
      var result: UnsafeMutablePointer<Glibc.group>?
      let rc = getgrnam_r(name, &entry, buffer.baseAddress!, buffer.count, &result)
      return (rc, result == nil ? nil : entry.gr_gid)
    }
  }

  public func owner(of path: String) -> (uid: UInt32, gid: UInt32)? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return (st.st_uid, st.st_gid)
  }

  public func access(of path: String) -> (mode: UInt32, uid: UInt32, gid: UInt32)? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    return (UInt32(st.st_mode) & 0o7777, st.st_uid, st.st_gid)
  }

  public func groups(uid: UInt32, gid: UInt32) -> Set<UInt32> {
    guard let name = user(uid: uid)?.name else { return [gid] }
    var count: Int32 = 64
    while true {
      var list = [gid_t](repeating: 0, count: Int(count))
      let wanted = count
      if getgrouplist(name, gid, &list, &count) >= 0 { return Set(list.prefix(Int(count))).union([gid]) }
      if count <= wanted { count = wanted * 4 }
      if count > 1 << 16 { return [gid] }
    }
  }

  /// The entry's strings point into the buffer: copied out while it lives.
  private static func user(_ entry: passwd) -> HostUser {
    HostUser(
      name: String(cString: entry.pw_name), uid: entry.pw_uid, gid: entry.pw_gid,
      home: entry.pw_dir.map { String(cString: $0) } ?? "/")
  }

  /// Calls `body` with a buffer for the C library's strings, a larger one
  /// while it answers ERANGE (a group with many members, say).
  private static func withBuffer<T>(_ body: (UnsafeMutableBufferPointer<CChar>) -> (Int32, T?)) -> T? {
    var size = 16384
    while true {
      var buffer = [CChar](repeating: 0, count: size)
      let (rc, value) = buffer.withUnsafeMutableBufferPointer { body($0) }
      if rc == ERANGE && size < 1 << 24 {
        size *= 4
        continue
      }
      return rc == 0 ? value : nil
    }
  }
}

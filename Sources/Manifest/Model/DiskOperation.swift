/// A file-system operation as FUSE names it: what a delay or error rule
/// of the disk layer applies to. `fsync` is a file's `fsync`/`fdatasync`,
/// `fsyncdir` a folder's; `open` opens a file that exists, `create` makes
/// one (`open(O_CREAT)` of a new name); closing (`release`) is never
/// delayed or failed (the kernel ignores its result).
public enum DiskOperation: String, CaseIterable, Codable, Sendable, Comparable {
  case access, chmod, chown, create, fallocate, fsync, fsyncdir, getattr, link, mkdir, mknod, open, opendir
  case read, readdir, readlink, rename, rmdir, statfs, symlink, truncate, unlink, utimens, write

  public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

  /// Every name, for messages.
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// An error a disk rule makes an operation return, by its name (`EIO`).
/// The numbers are Linux's (the disk layer runs on Linux).
public struct DiskErrno: Sendable, Hashable, CustomStringConvertible {
  public let name: String
  public let number: Int32

  /// The errors a rule can inject, with Linux's numbers.
  public static let known: [String: Int32] = [
    "EPERM": 1, "ENOENT": 2, "EINTR": 4, "EIO": 5, "ENXIO": 6, "EBADF": 9, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13,
    "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23,
    "EMFILE": 24, "EFBIG": 27, "ENOSPC": 28, "EROFS": 30, "EMLINK": 31, "ENAMETOOLONG": 36, "ENOLCK": 37,
    "ENOTEMPTY": 39, "ELOOP": 40, "EOPNOTSUPP": 95, "ETIMEDOUT": 110, "ESTALE": 116, "EDQUOT": 122,
  ]

  /// The error named `name` (`EIO`, `ENOSPC`, …), or nil for a name not in the table.
  public init?(_ name: String) {
    guard let number = Self.known[name] else { return nil }
    self.name = name
    self.number = number
  }

  /// A failed read or write of the device.
  public static let eio = DiskErrno("EIO")!
  /// A full disk.
  public static let enospc = DiskErrno("ENOSPC")!
  /// A file system remounted read-only (as ext4 does after an error).
  public static let erofs = DiskErrno("EROFS")!
  /// A quota exceeded.
  public static let edquot = DiskErrno("EDQUOT")!
  /// Permission denied.
  public static let eacces = DiskErrno("EACCES")!

  public var description: String { name }

  /// Every name, for messages.
  public static var names: String { known.sorted { $0.value < $1.value }.map(\.key).joined(separator: ", ") }
}

/// An error by its name: `"ENOSPC"`.
extension DiskErrno: Codable {
  public init(from decoder: any Decoder) throws {
    let name = try decoder.singleValueContainer().decode(String.self)
    guard let e = DiskErrno(name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(name) is not an error the disk layer returns"))
    }
    self = e
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(name)
  }
}

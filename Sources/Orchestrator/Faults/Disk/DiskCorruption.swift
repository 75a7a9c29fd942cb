import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Corruption of files at rest (the instance stopped): a pure function of a
/// folder (the disk layer's backing folder), a path pattern, a kind and a
/// seed. It changes every regular file whose path matches and says exactly
/// what it changed, for the event log. It never follows a symbolic link
/// (it walks with `lstat` and opens each step with `O_NOFOLLOW` from the
/// folder down), never leaves the folder's file system, and never touches
/// anything outside the folder. A file with several names is changed once
/// (under its first path in sorted order).
public enum DiskCorruption {
  /// How each matching file is changed.
  public enum Kind: Codable, Sendable, Equatable {
    /// Flips `count` distinct bits of each matching file, drawn from the
    /// seed (every bit of a file that has fewer than `count`).
    case bitflip(count: Int)
    /// Cuts the last `bytes` bytes off each matching file (a shorter one
    /// ends empty): a torn append.
    case truncate(bytes: Int64)
    /// Writes zeros over `length` bytes from `offset` in each matching
    /// file, within its size: the file never grows.
    case zero(offset: Int64, length: Int64)
  }

  /// Most bits one call flips in one file.
  public static let mostBits = 1_000_000

  /// One change: for a bit flip, the byte at `offset` (`length` 1) went from
  /// `old` to `new`; for `truncate`, the `length` bytes from `offset` (the
  /// new size) were cut; for `zero`, the `length` bytes from `offset` are
  /// zeros now.
  public struct Change: Codable, Sendable, Equatable {
    /// Inside the folder, from `/` (as the instance sees it in the mount).
    public var path: String
    public var offset: Int64
    public var length: Int64
    public var old: UInt8?
    public var new: UInt8?

    public init(path: String, offset: Int64, length: Int64, old: UInt8? = nil, new: UInt8? = nil) {
      self.path = path
      self.offset = offset
      self.length = length
      self.old = old
      self.new = new
    }
  }

  /// Changes the regular files under `folder` whose path inside it (`/wal/1.log`)
  /// `pattern` matches (NSRegularExpression, searched: anchor with `^`, `$`),
  /// in sorted path order, the draws of a bit flip from `seed`. Returns the
  /// changes sorted by path and offset. Refuses (changing nothing) a bad
  /// pattern or argument, and a pattern that matches no file or only files
  /// with nothing to change (empty, or a range past their end).
  public static func corrupt(folder: String, path pattern: String, _ kind: Kind, seed: UInt64) throws(DiskCorruptionError) -> [Change] {
    switch kind {
    case .bitflip(let count) where count < 1 || count > mostBits:
      throw .badArgument("bitflip: \(count) bits is not from 1 to \(mostBits)")
    case .truncate(let bytes) where bytes < 1:
      throw .badArgument("truncate: \(bytes) bytes is not a positive number of bytes to cut")
    case .zero(let offset, let length) where offset < 0 || length < 1 || offset > Int64.max - length:
      throw .badArgument("zero: the range \(offset), \(length) is not an offset from 0 and a positive length")
    default: break
    }
    let expression: NSRegularExpression
    do { expression = try NSRegularExpression(pattern: pattern) } catch {
      throw .badPattern(pattern, reason: error.localizedDescription)
    }
    #if canImport(Glibc)
    let tree = try FolderWalk(folder)
    defer { tree.close() }
    let matching = try tree.regularFiles().filter { expression.firstMatch(in: $0.path, range: NSRange($0.path.startIndex..., in: $0.path)) != nil }
    guard !matching.isEmpty else { throw .noMatch(folder: folder, pattern: pattern) }
    guard matching.contains(where: { hasSomethingToChange($0.size, kind) }) else {
      throw .nothingToChange(folder: folder, pattern: pattern, files: matching.count)
    }
    var random = SeededGenerator(seed: seed)
    var changes: [Change] = []
    for file in matching where hasSomethingToChange(file.size, kind) {
      let fd = try tree.open(file)
      defer { Glibc.close(fd) }
      changes += try change(fd, file, kind, &random)
    }
    return changes
    #else
    throw .io(path: folder, errno: 0)
    #endif
  }

  static func hasSomethingToChange(_ size: Int64, _ kind: Kind) -> Bool {
    switch kind {
    case .bitflip, .truncate: size > 0
    case .zero(let offset, _): offset < size
    }
  }
}

/// Why files were not corrupted; nothing was changed.
public enum DiskCorruptionError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The path pattern is not a regular expression.
  case badPattern(String, reason: String)
  /// A count, size or range out of bounds.
  case badArgument(String)
  /// No regular file's path matches.
  case noMatch(folder: String, pattern: String)
  /// Files match, but every one is empty (or the range to zero is past its end).
  case nothingToChange(folder: String, pattern: String, files: Int)
  /// A system call failed on `path` (the folder is not there, not a folder, unreadable, …).
  case io(path: String, errno: Int32)

  public var description: String {
    switch self {
    case .badPattern(let pattern, let reason): return "--path \(pattern) is not a regular expression: \(reason)"
    case .badArgument(let problem): return problem
    case .noMatch(let folder, let pattern): return "no regular file in \(folder) has a path that \(pattern) matches"
    case .nothingToChange(let folder, let pattern, let files):
      return "\(files) file(s) in \(folder) match \(pattern), but none has a byte to change (empty, or the range is past its end)"
    case .io(let path, let errno):
      #if canImport(Glibc)
      return "\(path): \(String(cString: strerror(errno)))"
      #else
      return "\(path): corruption of files at rest needs Linux"
      #endif
    }
  }
}

import Foundation

/// This process's mount table (`/proc/self/mountinfo`): what is mounted
/// where, to tell a disk layer that answers from one whose daemon died and
/// left its mount behind, and to unmount only cthulhu's own.
public struct MountTable: Sendable {
  public struct Entry: Sendable, Hashable {
    /// Where it is mounted (octal escapes such as `\040` decoded).
    public var mountPoint: String
    /// `fuse.cthulhu` for a disk layer.
    public var fileSystemType: String
  }

  /// The file-system type a disk layer mounts as (`subtype=cthulhu`).
  public static let diskLayerType = "fuse.cthulhu"

  public var entries: [Entry]

  /// The table as it is now (empty if it cannot be read).
  public static func current() -> MountTable { MountTable(text: ProcFile.text("/proc/self/mountinfo") ?? "") }

  /// Parses mountinfo lines: `id parent major:minor root mountpoint options
  /// [optional fields…] - fstype source superoptions`.
  public init(text: String) {
    entries = text.split(separator: "\n").compactMap { line in
      let fields = line.split(separator: " ", omittingEmptySubsequences: false)
      guard fields.count > 6, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { return nil }
      return Entry(mountPoint: Self.unescape(String(fields[4])), fileSystemType: String(fields[dash + 1]))
    }
  }

  /// A disk layer is mounted at exactly `path`.
  public func hasDiskLayer(at path: String) -> Bool {
    entries.contains { $0.mountPoint == path && $0.fileSystemType == Self.diskLayerType }
  }

  /// The disk layers mounted at or below `folder`.
  public func diskLayers(under folder: String) -> [String] {
    let prefix = folder.hasSuffix("/") ? folder : folder + "/"
    return entries.filter { $0.fileSystemType == Self.diskLayerType && $0.mountPoint.hasPrefix(prefix) }.map(\.mountPoint)
  }

  /// mountinfo writes space, tab, newline and backslash as `\ooo`.
  static func unescape(_ s: String) -> String {
    guard s.contains("\\") else { return s }
    var out: [UInt8] = []
    let b = Array(s.utf8)
    var i = 0
    while i < b.count {
      if b[i] == UInt8(ascii: "\\"), i + 3 < b.count,
        let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
      {
        out.append(v)
        i += 4
      } else {
        out.append(b[i])
        i += 1
      }
    }
    return String(decoding: out, as: UTF8.self)
  }
}

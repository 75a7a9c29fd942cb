import Foundation

/// Whether a user can reach a folder: search permission (`x`) on every
/// folder on the way to it, as the kernel checks a path lookup. A fixture
/// made under `mktemp -d` (mode 0700, root's) with `user: redis` passes
/// every check of its own and then every instance exits at once with
/// "Permission denied"; the plan says so first, naming the folder.
struct FolderReach {
  let users: any HostUsers

  /// A folder that stops the user, with what stops it.
  struct Blocker: Equatable {
    var folder: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32

    /// `drwx------`-style text of the mode with its octal value: `0700 (rwx------)`.
    var modeText: String {
      let letters = (0..<9).map { i -> Character in
        let bit = UInt32(1) << UInt32(8 - i)
        return mode & bit == 0 ? "-" : ["r", "w", "x"][i % 3]
      }
      return String(format: "%04o", mode) + " (" + String(letters) + ")"
    }
  }

  /// The first folder on the way to `path` (from `/`, `path` itself
  /// included when it exists) that `uid` with `groups` cannot search; nil
  /// when every existing one lets it through. `path` is absolute and has
  /// its links resolved (`resolved(_:)`). Folders not made yet are
  /// cthulhu's to make, and it makes them searchable.
  func blocker(of path: String, uid: UInt32, groups: Set<UInt32>) -> Blocker? {
    guard uid != 0 else { return nil }
    var folder = "/"
    for part in [""] + path.split(separator: "/").map(String.init) {
      if !part.isEmpty { folder = (folder == "/" ? "" : folder) + "/" + part }
      guard let a = users.access(of: folder) else { return nil }
      let bit: UInt32 = a.uid == uid ? 0o100 : groups.contains(a.gid) ? 0o010 : 0o001
      if a.mode & bit == 0 { return Blocker(folder: folder, mode: a.mode, uid: a.uid, gid: a.gid) }
    }
    return nil
  }

  /// `path` with the links of its deepest existing folder resolved, so the
  /// folders a lookup really passes are the ones checked.
  static func resolved(_ path: String) -> String {
    var existing = path
    var rest: [String] = []
    while !FileManager.default.fileExists(atPath: existing), existing != "/" {
      rest.insert((existing as NSString).lastPathComponent, at: 0)
      existing = (existing as NSString).deletingLastPathComponent
    }
    guard let real = realpath(existing, nil) else { return path }
    defer { free(real) }
    return ([String(cString: real)] + rest).joined(separator: "/").replacingOccurrences(of: "//", with: "/")
  }
}

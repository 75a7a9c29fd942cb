import Foundation

/// The rules for names cthulhu reads back from its own files (a state file,
/// a registry record), so that a forged one cannot name a path.
public enum Names {
  /// A fixture name: `[a-z0-9][a-z0-9-]*`, at most 40 characters.
  public static func isFixture(_ s: String) -> Bool { ManifestDecoder.isName(s) }
}

/// How cthulhu writes down a path it was given: one place for it.
public enum LocalPath {
  /// Absolute, with `.` and `..` resolved (and links, as `standardizingPath` does).
  public static func absolute(_ path: String, relativeTo directory: String = FileManager.default.currentDirectoryPath) -> String {
    ((path.hasPrefix("/") ? path : directory + "/" + path) as NSString).standardizingPath
  }

  /// A folder's path (a fixture root, a binary's): absolute, with `.`, `..`
  /// and links in the folders above it resolved, but its own last component
  /// kept as it is, so that a root which is itself a symbolic link is seen as
  /// one (and refused) rather than silently replaced by its target.
  public static func keepingLast(_ path: String, relativeTo directory: String = FileManager.default.currentDirectoryPath) -> String {
    var p = path.hasPrefix("/") ? path : directory + "/" + path
    while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
    let last = (p as NSString).lastPathComponent
    if last == "." || last == ".." || p == "/" { return (p as NSString).standardizingPath }
    let parent = ((p as NSString).deletingLastPathComponent as NSString).standardizingPath
    return (parent == "/" ? "" : parent) + "/" + last
  }
}

import Foundation

/// What a manifest's `root:` may name, decided by one rule rather than a
/// list of forbidden folders: `apply` adopts a root only when it is
/// missing (cthulhu creates it, and may later remove it), an empty folder
/// (cthulhu uses it and leaves the folder itself), or a folder that already
/// holds this fixture (its state names this fixture and this folder).
/// Anything else — a folder with other files in it, a folder that contains
/// the manifest, a symbolic link — is refused, and nothing is changed.
///
/// A root that is a symbolic link is refused, whatever it points to: a link
/// is never followed to write into or remove its target's files. (Links in
/// the folders *above* the root are resolved as usual: the root is the
/// folder they lead to.)
public enum FixtureRoot {
  public enum Adoption: Sendable, Hashable {
    /// The folder does not exist: apply creates it.
    case missing
    /// An empty folder (or one holding only cthulhu's `.cthulhu` folder
    /// from an apply that was killed before it recorded anything).
    case empty
    /// It holds this fixture.
    case fixture
  }

  /// Decides whether `root` may hold `fixture`, described by `state` (its
  /// state file as read, nil when it has none), for the manifest at `manifest`.
  public static func check(root: String, fixture: String, manifest: String, state: FixtureState?) throws -> Adoption {
    let key = "the manifest's root"
    if let manifestDir = realFolder(of: manifest), let real = realPath(root),
      manifestDir == real || manifestDir.hasPrefix(real == "/" ? "/" : real + "/")
    {
      throw OrchestratorError(
        .foreign,
        "\(key) \(root) contains the manifest \(manifest): cthulhu would own and later remove a folder holding your files; name a new or empty folder (the default is cthulhu-fixture next to the manifest)"
      )
    }
    var st = stat()
    guard lstat(root, &st) == 0 else {
      guard errno == ENOENT else { throw OrchestratorError.io(path: root, errno: errno) }
      return .missing
    }
    switch st.st_mode & S_IFMT {
    case S_IFLNK:
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: root)) ?? "?"
      throw OrchestratorError(
        .foreign,
        "\(key) \(root) is a symbolic link (to \(target)); cthulhu never follows a link into a folder it would write into and remove: name the folder itself"
      )
    case S_IFDIR: break
    default:
      throw OrchestratorError(.foreign, "\(key) \(root) exists and is not a folder; name a new or empty folder")
    }
    if let state {
      guard state.fixture == fixture else {
        throw OrchestratorError(
          .foreign, "\(root) holds fixture '\(state.fixture)', not '\(fixture)'; destroy it or choose another root")
      }
      guard state.root == root else {
        throw OrchestratorError(
          .foreign,
          "\(root) holds a fixture state written for \(state.root), not for this folder; it was copied or forged: run `cthulhu destroy --fixture \(root)` (it finds what to remove by label) or choose another root"
        )
      }
      return .fixture
    }
    let entries = try SafeTree.entries(ofFolder: root) ?? []
    // `runs/` holds the results of `cthulhu test`, which outlive a destroy.
    let foreign = entries.filter { $0 != ".cthulhu" && $0 != FixturePaths.runs }
    if foreign.isEmpty { return .empty }
    throw OrchestratorError(
      .foreign,
      "\(key) \(root) already holds \(describe(foreign, in: root)) that cthulhu did not make; cthulhu adopts only a missing or empty folder (it would remove what it makes there): name a new or empty folder"
    )
  }

  /// `3 entries (a, b/, c)`: folders end in `/`, at most six named.
  static func describe(_ names: [String], in folder: String) -> String {
    let shown = names.prefix(6).map { n -> String in
      var st = stat()
      return lstat(folder + "/" + n, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR ? n + "/" : n
    }
    let more = names.count > shown.count ? ", …" : ""
    return "\(names.count) entr\(names.count == 1 ? "y" : "ies") (\(shown.joined(separator: ", "))\(more))"
  }

  /// The folder holding `file`, with every link resolved.
  static func realFolder(of file: String) -> String? {
    realPath((file as NSString).deletingLastPathComponent)
  }

  /// `path` with every link resolved, or, when it does not exist, its
  /// nearest existing ancestor resolved and the rest appended.
  static func realPath(_ path: String) -> String? {
    if let r = realpath(path, nil) {
      defer { free(r) }
      return String(cString: r)
    }
    let parent = (path as NSString).deletingLastPathComponent
    guard parent != path, !parent.isEmpty, let p = realPath(parent) else { return nil }
    return (p == "/" ? "" : p) + "/" + (path as NSString).lastPathComponent
  }
}

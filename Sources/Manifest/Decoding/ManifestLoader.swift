import Foundation

/// Loads a manifest: libyaml → node tree → typed ``Manifest``, with every
/// problem reported at once.
public enum ManifestLoader {
  /// Most instances one manifest may ask for (the process driver in
  /// `loopback` mode holds this many; see ``Manifest/instanceLimit``).
  public static let maxInstances = 10_000
  /// Most instances of a fixture whose instances are ports of one Linux
  /// bridge (the docker driver, the process driver's `namespaces` mode):
  /// the kernel numbers a bridge's ports in 10 bits (`BR_MAX_PORTS`,
  /// net/bridge/br_private.h), so a bridge takes at most 1,023.
  public static let maxBridgedInstances = 1000

  /// Reads and decodes the manifest at `path` (relative to the current folder).
  /// Diagnostics name `path` as given.
  public static func load(path: String) throws(ManifestErrors) -> Manifest {
    let at = SourceLocation(file: path, line: 0, column: 0)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      throw ManifestErrors([Diagnostic(at: at, "no such manifest (create one with `cthulhu init`)")])
    }
    guard !isDir.boolValue else { throw ManifestErrors([Diagnostic(at: at, "is a folder, not a manifest file")]) }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ManifestErrors([Diagnostic(at: at, "cannot read the manifest (permission denied?)")])
    }
    return try decode(bytes: Array(data), displayPath: path, absolutePath: LocalPath.absolute(path))
  }

  /// Decodes manifest text; `path` is used for messages and as the base of relative paths.
  public static func load(text: String, path: String) throws(ManifestErrors) -> Manifest {
    return try decode(bytes: Array(text.utf8), displayPath: path, absolutePath: LocalPath.absolute(path))
  }

  /// Decodes a manifest read from elsewhere than its file (a git revision):
  /// diagnostics name `displayPath`, relative paths resolve from `absolutePath`'s folder.
  public static func load(text: String, displayPath: String, absolutePath: String) throws(ManifestErrors) -> Manifest {
    try decode(bytes: Array(text.utf8), displayPath: displayPath, absolutePath: absolutePath)
  }

  /// Decodes manifest bytes as read from a file (invalid UTF-8 is reported,
  /// not repaired); `path` is used for messages and as the base of relative paths.
  public static func load(bytes: [UInt8], path: String) throws(ManifestErrors) -> Manifest {
    return try decode(bytes: bytes, displayPath: path, absolutePath: LocalPath.absolute(path))
  }

  static func decode(bytes: [UInt8], displayPath: String, absolutePath: String) throws(ManifestErrors) -> Manifest {
    let source = String(decoding: bytes, as: UTF8.self)
    let root: YAMLNode?
    do {
      root = try YAMLParser(text: bytes, file: displayPath).parse()
    } catch {
      throw ManifestErrors([error], source: source)
    }
    guard let root, !root.isNull else {
      throw ManifestErrors(
        [Diagnostic(at: SourceLocation(file: displayPath, line: 1, column: 1), "manifest is empty; it needs at least 'fixture' and 'groups'")],
        source: source)
    }
    let decoder = ManifestDecoder(file: displayPath, path: absolutePath)
    let manifest = decoder.decode(root)
    let problems = decoder.reader.diagnostics
    guard !problems.contains(where: { $0.severity == .error }), let manifest else {
      throw ManifestErrors(problems, source: source)
    }
    return manifest
  }
}

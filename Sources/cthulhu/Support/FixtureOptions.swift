import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// How a command that reads a manifest finds it: the four ways of
/// ``FixtureLocator``; a fixture folder gives the manifest its last apply used.
struct ManifestArgument: ParsableArguments {
  @Argument(help: "The manifest (default: the current folder's cthulhu.yaml, or its only manifest).")
  var manifest: String?
  @OptionGroup var locator: FixtureLocator

  func load() throws -> Manifest { try Self.load(locator.target(positional: manifest)) }

  static func load(_ target: FixtureLocator.Target) throws -> Manifest {
    if let m = target.manifest { return m }
    guard let state = try FixtureState.load(root: target.root), let path = state.manifest else {
      throw CLIError("\(target.root) holds no fixture whose manifest cthulhu knows; name the manifest")
    }
    guard FileManager.default.fileExists(atPath: path) else {
      throw CLIError("the fixture at \(target.root) was applied from \(path), which is gone; name the manifest")
    }
    return try Input.manifest(at: path)
  }
}

/// How every command finds its fixture, the same four ways: a MANIFEST
/// argument (where the command takes one, or a first argument naming a
/// `.yaml`/`.yml` file where its arguments are instances), `-f MANIFEST`,
/// `--fixture DIR`, or the current folder — a fixture folder, or a folder
/// holding one manifest (`cthulhu.yaml` first; among several, the only one
/// whose fixture exists).
struct FixtureLocator: ParsableArguments {
  @Option(name: .customLong("fixture"), help: "The fixture folder.")
  var fixtureDir: String?

  @Option(name: .customShort("f"), help: "A manifest whose fixture to use.")
  var manifestPath: String?

  struct Target {
    /// The fixture folder (absolute).
    var root: String
    /// The manifest that named it, when one did.
    var manifest: Manifest?
  }

  /// The fixture folder (absolute).
  func root(positional: String? = nil) throws -> String { try target(positional: positional).root }

  /// The fixture, named by `positional` (a command's MANIFEST argument), an option, or the current folder.
  func target(positional: String? = nil) throws -> Target {
    if let d = fixtureDir { return Target(root: Input.absolute(d), manifest: nil) }
    if let m = manifestPath ?? positional {
      let manifest = try Input.manifest(at: m)
      return Target(root: manifest.root, manifest: manifest)
    }
    return try Self.here()
  }

  /// For commands whose arguments are instances: an argument naming a
  /// manifest file is the manifest (instance, group and glob names never end
  /// in `.yaml` or `.yml`); the rest are the instances, `empty` when none is left.
  func target(instances: [String], empty: [String] = ["all"]) throws -> (Target, [String]) {
    guard let i = instances.firstIndex(where: Input.looksLikeManifest) else { return (try target(), instances) }
    guard fixtureDir == nil, manifestPath == nil else {
      throw CLIError("'\(instances[i])' names a manifest, and so does --fixture or -f: give one of them")
    }
    var rest = instances
    rest.remove(at: i)
    return (try target(positional: instances[i]), rest.isEmpty ? empty : rest)
  }

  /// The current folder's fixture.
  static func here() throws -> Target {
    let fm = FileManager.default
    let cwd = fm.currentDirectoryPath
    if fm.fileExists(atPath: cwd + "/.cthulhu/state.json") { return Target(root: cwd, manifest: nil) }
    if fm.fileExists(atPath: cwd + "/cthulhu.yaml") {
      let manifest = try Input.manifest(at: "cthulhu.yaml")
      return Target(root: manifest.root, manifest: manifest)
    }
    let files = ((try? fm.contentsOfDirectory(atPath: cwd)) ?? []).filter(Input.looksLikeManifest).sorted()
    let manifests = files.compactMap { f in (try? ManifestLoader.load(path: f)).map { (f, $0) } }
    if manifests.count == 1 { return Target(root: manifests[0].1.root, manifest: manifests[0].1) }
    let applied = manifests.filter { (try? FixtureState.load(root: $0.1.root))??.fixture == $0.1.fixture }
    if applied.count == 1 { return Target(root: applied[0].1.root, manifest: applied[0].1) }
    guard !manifests.isEmpty else {
      throw CLIError(
        "no fixture here: name one with a manifest (cthulhu status cthulhu.yaml), -f MANIFEST or --fixture DIR, or run from a fixture folder or a folder with a cthulhu.yaml"
      )
    }
    let names = manifests.map(\.0)
    let which = applied.isEmpty ? "none of them has a fixture" : "\(applied.count) of them have fixtures"
    throw CLIError(
      "this folder holds \(names.count) manifests (\(names.joined(separator: ", "))) and \(which): name one, e.g. `-f \(applied.first?.0 ?? names[0])`"
    )
  }
}

/// A mistake on the command line, told in one sentence with its fix (no usage block).
struct CLIError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

enum Input {
  /// A path that names a manifest file: it ends in `.yaml` or `.yml`.
  static func looksLikeManifest(_ s: String) -> Bool { s.hasSuffix(".yaml") || s.hasSuffix(".yml") }

  /// A fixture folder's path written as the manifest's `root:` is (see ``LocalPath``).
  static func absolute(_ p: String) -> String {
    LocalPath.keepingLast(p)
  }

  /// Loads and validates a manifest; diagnostics go to stderr, compiler style.
  static func manifest(at path: String) throws -> Manifest {
    do {
      return try ManifestLoader.load(path: path)
    } catch {
      Output.error(error.render())
      throw ExitCode.failure
    }
  }

  /// Runs `body` with the driver for a fixture's kind (``Drivers/with(_:_:)``).
  static func withDriver<T>(_ kind: DriverKind, _ body: (any Driver) async throws -> T) async throws -> T {
    try await Drivers.with(kind, body)
  }
}

enum Output {
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
  }
  static func out(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }
  /// `value` as indented JSON with sorted keys, dates in ISO 8601.
  static func json(_ value: some Encodable) throws {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    out(String(decoding: try e.encode(value), as: UTF8.self) + "\n")
  }
  /// Rows padded into columns, the first row a header.
  static func table(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max()! }
    for row in rows {
      out(
        zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
          + "\n")
    }
  }
}

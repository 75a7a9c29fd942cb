import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// How a command finds its manifest: a positional path, default `./cthulhu.yaml`.
struct ManifestArgument: ParsableArguments {
  @Argument(help: "The manifest (default: ./cthulhu.yaml).")
  var manifest: String = "cthulhu.yaml"

  func load() throws -> Manifest { try Input.manifest(at: manifest) }
}

/// How a command that acts on a running fixture finds it: `--fixture DIR`,
/// `-f MANIFEST`, or the current folder.
struct FixtureLocator: ParsableArguments {
  @Option(name: .customLong("fixture"), help: "The fixture folder.")
  var fixtureDir: String?

  @Option(name: .customShort("f"), help: "A manifest whose fixture to use.")
  var manifestPath: String?

  /// The fixture folder (absolute).
  func root(positional: String? = nil) throws -> String { try target(positional: positional).root }

  /// The fixture folder (absolute), and the manifest when one named it.
  func target(positional: String? = nil) throws -> (root: String, manifest: Manifest?) {
    if let d = fixtureDir { return (Input.absolute(d), nil) }
    if let m = manifestPath ?? positional {
      let manifest = try Input.manifest(at: m)
      return (manifest.root, manifest)
    }
    let cwd = FileManager.default.currentDirectoryPath
    if FileManager.default.fileExists(atPath: cwd + "/.cthulhu/state.json") { return (cwd, nil) }
    if FileManager.default.fileExists(atPath: cwd + "/cthulhu.yaml") {
      let manifest = try Input.manifest(at: "cthulhu.yaml")
      return (manifest.root, manifest)
    }
    throw ValidationError("Please name a fixture with --fixture DIR or -f MANIFEST, or run from a fixture folder.")
  }
}

enum Input {
  /// A fixture folder's path written as the manifest's `root:` is (see ``FixturePath``).
  static func absolute(_ p: String) -> String {
    FixturePath.normalize(p, relativeTo: FileManager.default.currentDirectoryPath)
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

  /// Runs `body` with the driver for a fixture's kind, and closes the driver after.
  static func withDriver<T>(_ kind: DriverKind, _ body: (any Driver) async throws -> T) async throws -> T {
    switch kind {
    case .docker:
      let driver = try DockerDriver()
      do {
        let result = try await body(driver)
        try? await driver.shutdown()
        return result
      } catch {
        try? await driver.shutdown()
        throw error
      }
    case .process:
      // Its network mode travels with the fixture's network (a label the
      // Resolver sets), so one driver serves both modes and every command.
      return try await body(ProcessDriver())
    }
  }
}

enum Output {
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
  }
  static func out(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }
  /// Rows padded into columns, the first row a header.
  static func table(_ rows: [[String]]) {
    guard let first = rows.first else { return }
    let widths = (0..<first.count).map { c in rows.map { $0[c].count }.max()! }
    for row in rows {
      out(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n")
    }
  }
}

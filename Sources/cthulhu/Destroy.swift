import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "destroy",
      abstract: "Remove exactly what the fixture made: its containers, its network and the files it wrote.",
      discussion: """
        Entries of the fixture folder that cthulhu did not make are kept, and named. \
        Without a usable state file, the fixture's containers, networks and processes \
        are found by their labels; --fixture-name NAME needs no folder at all.
        """)

    @Argument(help: "The manifest (default: ./cthulhu.yaml unless --fixture is given).")
    var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Option(
      name: .customLong("fixture-name"),
      help: "Destroy the fixture of this name wherever it was made, found by its labels (as `docker compose -p NAME down`).")
    var fixtureName: String?
    @Flag(help: "Keep the fixture folder (configs, logs) for a post-mortem.") var keepFiles = false
    @Flag(help: "Also remove the images built for the fixture from 'build:' (kept as a cache otherwise).") var rmi = false
    @Option(help: "tty: one line that counts the removals in place; plain, none: the outcome only (default: tty on a terminal, plain otherwise).")
    var progress: ProgressMode?

    func validate() throws {
      if let n = fixtureName {
        guard Names.isFixture(n) else { throw ValidationError("Please give --fixture-name a fixture name ([a-z0-9][a-z0-9-]*).") }
        guard manifest == nil, locator.fixtureDir == nil, locator.manifestPath == nil else {
          throw ValidationError("Please give either --fixture-name or a manifest / --fixture DIR, not both.")
        }
      }
    }

    func run() async throws {
      let line = ProgressMode.resolve(progress) == .tty ? ProgressLine(verb: "destroy", unit: "removed", total: 0) : nil
      var teardown = Teardown(keepFiles: keepFiles, removeImages: rmi)
      if let line { teardown.progress = { removed, total in line.set(done: removed, of: total) } }
      if let name = fixtureName {
        let out = try await finishing(line) { try await teardown.destroy(named: name) }
        render(out)
        if out.destroyed.isEmpty { Output.out("Nothing to destroy: no container, network or process carries fixture '\(name)'.\n") }
        return
      }
      let target = try locator.target(positional: manifest)
      let (root, manifest) = (target.root, target.manifest)
      let out = try await finishing(line) {
        try await teardown.destroy(root: root, fixture: manifest?.fixture, kinds: Teardown.drivers(root: root, manifest: manifest))
      }
      render(out)
      if out.destroyed.isEmpty { Output.out("Nothing to destroy: \(root) holds no cthulhu fixture.\n") }
    }

    /// Runs `body` as `failing` does, the progress line finished before anything else is printed.
    func finishing(_ line: ProgressLine?, _ body: () async throws -> Teardown.Outcome) async throws -> Teardown.Outcome {
      try await failing {
        defer { line?.finish() }
        return try await body()
      }
    }

    func render(_ out: Teardown.Outcome) {
      for note in out.notes { Output.error("note: \(note)") }
      for (root, r) in out.destroyed { print(r, root: root) }
    }

    func print(_ r: FixtureController.DestroyReport, root: String) {
      var line = "Destroyed fixture '\(r.fixture)': \(r.containers.count) instance(s), \(r.networks.count) network(s)"
      if rmi { line += ", \(r.images.count) built image(s)" }
      if r.keptFiles {
        line += "; kept \(root)"
      } else if r.removedRoot {
        line += "; removed \(root)"
      } else {
        line += "; removed its files from \(root)"
      }
      Output.out(line + "\n")
      if let why = r.withoutState { Output.out("Found by label: \(why).\n") }
      if !r.kept.isEmpty {
        let shown = r.kept.map { n -> String in
          var isDir: ObjCBool = false
          return FileManager.default.fileExists(atPath: root + "/" + n, isDirectory: &isDir) && isDir.boolValue ? n + "/" : n
        }
        Output.out("Kept \(r.kept.count) entr\(r.kept.count == 1 ? "y" : "ies") cthulhu did not make: \(shown.joined(separator: ", "))\n")
      }
    }
  }
}

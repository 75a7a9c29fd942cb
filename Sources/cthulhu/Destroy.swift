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
      if let name = fixtureName { return try await failing { try await destroy(named: name) } }
      let target = try locator.target(positional: manifest)
      let (root, manifest) = (target.root, target.manifest)
      try await failing {
        // The state names its driver; without one (lost, unreadable), the
        // manifest does; without that, every driver is asked.
        let state = try? FixtureState.load(root: root)
        let kinds = state.map { [$0.driver] } ?? manifest.map { [$0.driver] } ?? Self.everyDriver
        let reports = try await Self.destroy(root: root, fixture: manifest?.fixture, kinds: kinds, keepFiles: keepFiles, rmi: rmi, progress: progress)
        if reports.isEmpty { Output.out("Nothing to destroy: \(root) holds no cthulhu fixture.\n") }
        for r in reports { print(r, root: root) }
      }
    }

    /// Every driver, in the order a fixture found by label is looked for:
    /// the swarm first, so that where `DOCKER_HOST` is a swarm's manager a
    /// swarm fixture is destroyed on every node, not as the docker
    /// driver's containers on the manager's node only. (Where the engine is
    /// no swarm manager, or does not answer, the swarm driver is passed over
    /// without a word: the docker driver asks the same engine next.)
    static let everyDriver: [DriverKind] = [.swarm, .docker, .process]

    /// `--fixture-name`: every folder the fixture was made from, found by label on every driver.
    func destroy(named name: String) async throws {
      var found = false
      for kind in Self.everyDriver {
        let roots: [String]
        do {
          roots = try await Input.withDriver(kind) { try await FixtureController(driver: $0, executable: .current).roots(ofFixture: name) }
        } catch let e as DriverError where kind == .swarm && (e.code == .unsupported || e.code.isTransport) {
          continue  // (no swarm manager at DOCKER_HOST; an engine that does not answer is named by the docker pass)
        } catch let e as DriverError where e.code.isTransport {
          Output.error("note: \(e) (its containers were not looked for)")
          continue
        }
        for root in roots {
          found = true
          for r in try await Self.destroy(root: root, fixture: name, kinds: [kind], keepFiles: keepFiles, rmi: rmi, progress: progress) {
            print(r, root: root)
          }
        }
      }
      if !found { Output.out("Nothing to destroy: no container, network or process carries fixture '\(name)'.\n") }
    }

    /// Destroys with each driver in turn; a driver that finds nothing, or
    /// (when several are asked) does not answer, is passed over.
    static func destroy(
      root: String, fixture: String?, kinds: [DriverKind], keepFiles: Bool, rmi: Bool, progress: ProgressMode? = nil
    ) async throws -> [FixtureController.DestroyReport] {
      var reports: [FixtureController.DestroyReport] = []
      let line = ProgressMode.resolve(progress) == .tty ? ProgressLine(verb: "destroy", unit: "removed", total: 0) : nil
      defer { line?.finish() }
      var onRemoval: (@Sendable (Int, Int) -> Void)?
      if let line { onRemoval = { removed, total in line.set(done: removed, of: total) } }
      for kind in kinds {
        do {
          reports.append(
            try await Input.withDriver(kind) {
              try await FixtureController(driver: $0, executable: .current).destroy(
                root: root, fixture: fixture, keepFiles: keepFiles, removeImages: rmi, progress: onRemoval)
            })
        } catch let e as OrchestratorError where e.code == .noFixture {
          continue
        } catch let e as DriverError where kind == .swarm && kinds.count > 1 && (e.code == .unsupported || e.code.isTransport) {
          continue  // (as in destroy(named:))
        } catch let e as DriverError where e.code.isTransport && kinds.count > 1 {
          Output.error("note: \(e) (its containers were not looked for)")
        }
      }
      return reports
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

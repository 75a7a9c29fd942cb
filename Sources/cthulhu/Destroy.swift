import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Destroy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove exactly what the fixture made: its containers, its network and its folder.")

    @Argument(help: "The manifest (default: ./cthulhu.yaml unless --fixture is given).")
    var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Keep the fixture folder (configs, logs) for a post-mortem.") var keepFiles = false
    @Flag(help: "Also remove the images built for the fixture from 'build:' (kept as a cache otherwise).") var rmi = false

    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        let state = try FixtureState.load(root: root)
        guard let state else {
          Output.out("Nothing to destroy: \(root) holds no cthulhu fixture.\n")
          return
        }
        let report = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).destroy(root: root, keepFiles: keepFiles, removeImages: rmi) }
        Output.out(
          "Destroyed fixture '\(report.fixture)': \(report.containers.count) instance(s), \(report.networks.count) network(s)"
            + (rmi ? ", \(report.images.count) built image(s)" : "")
            + (keepFiles ? "; kept \(root)\n" : "; removed \(root)\n"))
      }
    }
  }
}

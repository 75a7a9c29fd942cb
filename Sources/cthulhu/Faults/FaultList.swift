import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Faults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "faults", abstract: "List the faults in force.")
    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Print JSON.") var json = false
    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        let faults = try await FixtureController.faultsInForce(root: root, executable: .current)
        if json { return try Output.json(faults) }
        if faults.isEmpty { Output.out("No faults.\n"); return }
        var table = [["ID", "KIND", "SINCE", "UNTIL", "WHAT"]]
        for f in faults {
          table.append([
            f.id, f.kind.rawValue, TimeText.wall(f.createdAt), f.expiresAt.map(TimeText.wall) ?? "-", f.summary + (f.owner.map { " (\($0))" } ?? ""),
          ])
        }
        Output.table(table)
      }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Heal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "heal", abstract: "Lift faults: every fault, or those on the instances given.")
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances to heal (default: all faults).") var targets: [String] = []
    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets, empty: [])
      let root = target.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = targets.isEmpty ? nil : try Targets.resolve(targets, in: state)
        let r = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).heal(root: root, names: names) }
        guard !r.nothingToHeal else { return Output.out("Nothing to heal.\n") }
        Output.out(
          "healed" + (names.map { " " + $0.joined(separator: ",") } ?? "")
            + (r.lifted.isEmpty ? "" : "; lifted " + r.lifted.map(\.id).joined(separator: " ")) + "\n")
      }
    }
  }
}

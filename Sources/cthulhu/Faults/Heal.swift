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
      try await Self.lift(locator: locator, targets: targets, verb: "healed", nothing: "Nothing to heal.") {
        try await $0.heal(root: $1, names: $2)
      }
    }

    /// Lifts faults on the instances named (every one when none is): `heal`
    /// and `clock reset` differ only in which faults and in their words.
    static func lift(
      locator: FixtureLocator, targets: [String], verb: String, nothing: String,
      _ body: @escaping @Sendable (FixtureController, String, [String]?) async throws -> FixtureController.HealReport
    ) async throws {
      let (target, targets) = try locator.target(instances: targets, empty: [])
      let root = target.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = targets.isEmpty ? nil : try Targets.resolve(targets, in: state)
        let r = try await Input.withDriver(state.driver) { try await body(FixtureController(driver: $0, executable: .current), root, names) }
        guard !r.nothingToHeal else { return Output.out(nothing + "\n") }
        Output.out(
          verb + (names.map { " " + $0.joined(separator: ",") } ?? "")
            + (r.lifted.isEmpty ? "" : "; lifted " + r.lifted.map(\.id).joined(separator: " ")) + "\n")
      }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Heal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "heal", abstract: "Lift faults: every fault, those on the instances given, or those given by id (f3, as `faults` lists them).")
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances to heal, or fault ids (default: all faults).") var targets: [String] = []
    func run() async throws {
      let ids = targets.filter { $0.wholeMatch(of: /f[0-9]+/) != nil }
      guard ids.isEmpty else { return try await liftByID(ids) }
      try await Self.lift(locator: locator, targets: targets, verb: "healed", nothing: "Nothing to heal.") {
        try await $0.heal(root: $1, names: $2)
      }
    }

    /// `heal f3 f4`: those faults, wherever they are in force; refuses an id not in force, changing nothing.
    func liftByID(_ ids: [String]) async throws {
      let (target, rest) = try locator.target(instances: targets, empty: [])
      let root = target.root
      if let other = rest.first(where: { !ids.contains($0) }) {
        throw ValidationError("Please give either fault ids (f3) or instances to heal, not both (got '\(other)').")
      }
      try await failing {
        let state = try FixtureState.require(root: root)
        let inForce = Set(try await FixtureController.faultsInForce(root: root, executable: .current).map(\.id))
        if let unknown = ids.first(where: { !inForce.contains($0) }) {
          throw OrchestratorError(.badTargets, "no fault \(unknown) is in force (`cthulhu faults` lists them); nothing was lifted")
        }
        let lifted = try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).lift(root: root, ids: ids)
        }
        Output.out("healed; lifted " + lifted.map(\.id).joined(separator: " ") + "\n")
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

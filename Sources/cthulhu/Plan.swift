import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show what `apply` would change in the fixture, and why. Changes nothing.",
      discussion: """
        Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, \
        2 changes present (with --detailed-exitcode).
        """)

    @OptionGroup var input: ManifestArgument
    @Flag(help: "Print the plan as versioned JSON.") var json = false
    @Flag(help: "Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.")
    var detailedExitcode = false
    @Option(help: "Also save the plan to FILE, for `cthulhu apply FILE`.") var out: String?

    func run() async throws {
      let manifest = try input.load()
      let plan = try await failing {
        try await Input.withDriver(manifest.driver) { try await FixtureController(driver: $0).plan(manifest).plan }
      }
      Output.out(json ? try PlanRenderer.json(plan) : PlanRenderer.text(plan))
      if let out {
        try PlanRenderer.json(plan).write(toFile: out, atomically: true, encoding: .utf8)
        if !json { Output.out("Saved the plan to \(out): apply it with `cthulhu apply \(out)`.\n") }
      }
      if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }
  }
}

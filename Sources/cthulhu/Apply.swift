import ArgumentParser
import Foundation
import Manifest
import Orchestrator
import Synchronization

extension Cthulhu {
  struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Converge the fixture to a manifest (or to a plan saved with `plan --out`).")

    @Argument(help: "The manifest, or a plan saved by `cthulhu plan --out` (default: ./cthulhu.yaml).")
    var manifest: String = "cthulhu.yaml"
    @Option(help: "How many steps run at once.") var parallel: Int = 8

    func validate() throws {
      guard parallel >= 1 else { throw ValidationError("Please give --parallel a number of 1 or more.") }
    }

    func run() async throws {
      let saved = SavedPlan.read(manifest)
      let m = try Input.manifest(at: saved?.manifest ?? manifest)
      try await failing {
        try await Input.withDriver(m.driver) { driver in
        let orchestrator = FixtureController(driver: driver)
        let planned = try await orchestrator.plan(m)
        if let saved, saved.basis != planned.plan.basis || saved.steps != planned.plan.steps {
          throw OrchestratorError(.stalePlan, "\(manifest): the fixture or the manifest changed since this plan was saved; run `cthulhu plan` again")
        }
        guard planned.plan.hasChanges else {
          Output.out(PlanRenderer.text(planned.plan))
          return
        }
        Output.out(PlanRenderer.text(planned.plan) + "\n")
        var options = ApplyOptions()
        options.parallel = parallel
        let clock = ContinuousClock()
        let t0 = clock.now
        let result = try await orchestrator.apply(planned, options: options, observer: ProgressPrinter())
        let s = planned.plan.summary
        if result.failures.isEmpty {
          Output.out("\nApply complete in \(Seconds(clock.now - t0)): \(s.add) added, \(s.change) changed, \(s.destroy) destroyed. Fixture: \(m.root)\n")
        } else {
          for f in result.failures { Output.error("error: \(f.target): \(f.error)") }
          Output.error("Apply failed: \(result.failures.count) step(s) failed; the state is recorded, run `cthulhu apply` again to converge.")
          throw ExitCode.failure
        }
        }
      }
    }
  }
}

/// Prints each step as it starts and ends, with its duration.
struct ProgressPrinter: ApplyObserver {
  func started(_ step: Step) {
    Output.out("\(step.target): \(step.action.rawValue)…\n")
  }
  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    if let error {
      Output.out("\(step.target): \(step.action.rawValue) failed after \(Seconds(after)): \(error)\n")
    } else {
      Output.out("\(step.target): \(step.action.rawValue) done (\(Seconds(after)))\n")
    }
  }
}

struct Seconds: CustomStringConvertible {
  var d: Duration
  init(_ d: Duration) { self.d = d }
  var description: String {
    let (s, a) = d.components
    return String(format: "%.2fs", Double(s) + Double(a) / 1e18)
  }
}

enum SavedPlan {
  /// A saved plan is a JSON file with a `formatVersion`; anything else is a manifest.
  static func read(_ path: String) -> Orchestrator.Plan? {
    guard path.hasSuffix(".json"), let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? JSONDecoder().decode(Orchestrator.Plan.self, from: data)
  }
}

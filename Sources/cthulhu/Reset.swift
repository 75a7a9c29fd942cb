import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Reset: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reset",
      abstract:
        "Back to the applied state without a destroy: heal every fault, start what is stopped, thaw what is paused, rewrite files edited by hand.",
      discussion: """
        With --data, the instances are also stopped, their var folders emptied and \
        started again: a fresh cluster with the same containers and addresses. Only \
        the applied state is restored: a manifest changed since its apply is refused \
        (run `cthulhu apply`). For a test suite's teardown.
        """)

    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Also stop the instances, empty their var folders and start them again.") var data = false
    @Option(
      help: "plain: a line per step; tty: one line that updates in place; none: the outcome only (default: tty on a terminal, plain otherwise).")
    var progress: ProgressMode?
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]

    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets)
      let manifest = try ManifestArgument.load(target)
      try await failing {
        let state = try FixtureState.require(root: manifest.root)
        let names = targets == ["all"] ? nil : try Targets.resolve(targets, in: state)
        let clock = ContinuousClock()
        let t0 = clock.now
        let (observer, line) = ProgressMode.resolve(progress).observer(verb: "reset", total: 0)
        let report: FixtureController.ResetReport
        do {
          report = try await Input.withDriver(manifest.driver) {
            try await FixtureController(driver: $0, executable: .current).reset(manifest, names: names, data: data, observer: observer)
          }
          line?.finish()
        } catch {
          line?.finish()
          throw error
        }
        if report.stoppedNemesis { Output.out("Stopped the nemesis and healed what it caused.\n") }
        for f in report.healed.lifted { Output.out("Healed \(f.id): \(f.summary)\n") }
        for f in report.healed.narrowed { Output.out("Narrowed \(f.id): \(f.summary)\n") }
        if !report.emptied.isEmpty { Output.out("Emptied var: \(report.emptied.joined(separator: " "))\n") }
        let steps = report.applied?.plan.steps.count ?? 0
        let healed = report.healed.lifted.count + report.healed.narrowed.count
        if let applied = report.applied, !applied.failures.isEmpty {
          Cthulhu.Apply.report(applied)
          Output.error("Reset failed: \(applied.failures.count) step(s) failed; run `cthulhu reset` again, or `cthulhu apply`.")
          throw ExitCode.failure
        }
        Output.out(
          healed == 0 && steps == 0 && report.emptied.isEmpty && !report.stoppedNemesis
            ? "Nothing to reset: the fixture is as applied.\n"
            : "Reset complete in \(Seconds(clock.now - t0)): \(healed) fault(s) healed, \(report.emptied.count) var folder(s) emptied, \(steps) step(s).\n"
        )
      }
    }
  }
}

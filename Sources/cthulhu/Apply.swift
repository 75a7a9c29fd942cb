import ArgumentParser
import Foundation
import Manifest
import Orchestrator
import Synchronization

extension Cthulhu {
  struct Apply: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "apply",
      abstract: "Converge the fixture to a manifest (or to a plan saved with `plan --out`).")

    @Argument(help: "The manifest, or a plan saved by `cthulhu plan --out` (default: the current folder's cthulhu.yaml, or its only manifest).")
    var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Option(help: "How many steps run at once.") var parallel: Int = 8
    @Option(
      help: ArgumentHelp(
        "Destroy the fixture by itself this long after the last apply (30m, 2h; 0 removes it), even if every cthulhu and the test runner were killed.",
        valueName: "duration"), transform: Parse.timeToLive)
    var ttl: Duration?
    @Option(
      help:
        "plain: a line per step; tty: one line that updates in place; none: the plan and the outcome only (default: tty on a terminal, plain otherwise)."
    )
    var progress: ProgressMode?

    func validate() throws {
      guard parallel >= 1 else { throw ValidationError("Please give --parallel a number of 1 or more.") }
    }

    func run() async throws {
      // A `.json` argument is a plan saved by `plan --out`; anything else a manifest.
      let savedPath = manifest.flatMap { $0.hasSuffix(".json") ? $0 : nil }
      let saved = try await failing { try savedPath.map(Orchestrator.Plan.readSaved) }
      let m = try saved.map { try Input.manifest(at: $0.manifest) } ?? ManifestArgument.load(locator.target(positional: manifest))
      try await failing {
        try await Input.withDriver(m.driver) { driver in
          let orchestrator = FixtureController(driver: driver, executable: .current)
          let planned =
            if let saved, let savedPath { try await orchestrator.plan(m, asSaved: saved, at: savedPath) } else { try await orchestrator.plan(m) }
          var options = ApplyOptions()
          options.parallel = parallel
          options.ttl = ttl
          options.replanWhenStale = saved == nil
          guard planned.plan.hasChanges else {
            Output.out(PlanRenderer.text(planned.plan))
            if orchestrator.needsApply(planned, options: options) {
              let r = try await orchestrator.apply(planned, options: options)
              if let e = r.state.expiresAt { Output.out("The fixture destroys itself at \(TimeText.wall(e)) unless applied again.\n") }
            }
            return
          }
          Output.out(PlanRenderer.text(planned.plan) + "\n")
          let interrupt = Interrupt()
          options.interrupt = interrupt
          let sigint = InterruptHandler(interrupt)
          defer { sigint.restore() }
          let clock = ContinuousClock()
          let t0 = clock.now
          let (observer, line) = ProgressMode.resolve(progress).observer(verb: "apply", total: planned.plan.steps.count)
          let result: FixtureController.ApplyResult
          do {
            result = try await orchestrator.apply(planned, options: options, observer: observer)
            line?.finish()
          } catch {
            line?.finish()
            throw error
          }
          let s = planned.plan.summary
          defer { if let e = result.state.expiresAt { Output.out("The fixture destroys itself at \(TimeText.wall(e)) unless applied again.\n") } }
          if result.interrupted {
            Self.report(result)
            let undone = result.notStarted.map(\.target.description)
            Output.error(
              "Interrupted: the steps in flight finished and the state is recorded; not started: "
                + (undone.isEmpty ? "none" : undone.joined(separator: ", ")) + ". Run `cthulhu apply` again to converge.")
            throw ExitCode(130)
          }
          if result.failures.isEmpty {
            Output.out(
              "\nApply complete in \(Seconds(clock.now - t0)): \(s.add) added, \(s.change) changed, \(s.destroy) destroyed. Fixture: \(m.root)\n")
          } else {
            Self.report(result)
            Output.error("Apply failed: \(result.failures.count) step(s) failed; the state is recorded, run `cthulhu apply` again to converge.")
            throw ExitCode.failure
          }
        }
      }
    }
  }
}

/// Ctrl-C during apply: the first finishes the steps in flight and starts no
/// more (the apply then exits 130); a second aborts at once. State is saved
/// after every step with an atomic rename, so the next apply repairs either.
final class InterruptHandler {
  let source: any DispatchSourceSignal
  init(_ interrupt: Interrupt) {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler {
      if interrupt.requested {
        Output.error("\nAborted: the next `cthulhu apply` repairs what was left half-done.")
        _exit(130)
      }
      interrupt.request()
      Output.error("\nInterrupted: finishing the steps in flight, starting no more (Ctrl-C again to abort at once).")
    }
    source.resume()
    self.source = source
  }
  func restore() {
    source.cancel()
    signal(SIGINT, SIG_DFL)
  }
}

/// Prints each step as it starts and ends, with its duration.
struct ProgressPrinter: ApplyObserver {
  func replanned(_ plan: Orchestrator.Plan) {
    Output.out("The fixture changed while this plan was shown; applying the fresh plan instead:\n\n" + PlanRenderer.text(plan) + "\n")
  }
  func retrying(_ plan: Orchestrator.Plan, after failures: [(target: String, error: any Error)]) {
    Output.out(
      "\(failures.map(\.target).joined(separator: ", ")): a fresh look at the fixture can repair this; applying:\n\n"
        + PlanRenderer.text(plan) + "\n")
  }
  func started(_ step: Step) {
    Output.out("\(step.target): \(step.action.rawValue)…\n")
  }
  func remade(_ step: Step, because error: any Error) {
    Output.out("\(step.target): the engine would not start its container (\(error)); made a new one\n")
  }
  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    if let error {
      Output.out(ProgressLine.failure(step, after: after, error) + "\n")
    } else {
      Output.out("\(step.target): \(step.action.rawValue) done (\(Seconds(after)))\n")
    }
  }
}

struct Seconds: CustomStringConvertible {
  var d: Duration
  init(_ d: Duration) { self.d = d }
  var description: String {
    String(format: "%.2fs", d.seconds)
  }
}

extension Cthulhu.Apply {
  /// One `error:` line a failed step, except that an engine gone away (every
  /// step in flight fails the same way) is said once, naming the steps.
  static func report(_ result: FixtureController.ApplyResult) {
    guard !result.failures.isEmpty else { return }
    if let gone = result.engineGone {
      Output.error("error: \(gone) (steps not done: \(result.failures.map(\.target).joined(separator: ", ")))")
      return
    }
    for f in result.failures { Output.error("error: \(f.target): \(f.error)") }
  }
}

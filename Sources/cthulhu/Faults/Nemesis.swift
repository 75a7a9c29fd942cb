import ArgumentParser
import Foundation
import Manifest
import Orchestrator
import Synchronization

extension Cthulhu {
  struct Nemesis: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "nemesis",
      abstract: "Run the manifest's nemesis schedule (faults that come and go) in the background.",
      discussion: """
        The schedule is the manifest's `nemesis:` section (docs/manifest.md); `cthulhu plan` \
        shows it. `start` runs it in a detached process that outlives this command; `stop` \
        halts it and heals everything it caused; `status` says what runs and what comes next. \
        While `cthulhu test` runs the nemesis in its own process, `status` names that run, and \
        `start` and `stop` are refused: the run heals it when it ends.
        """,
      subcommands: [NemesisStart.self, NemesisStop.self, NemesisStatusCommand.self])
  }

  struct NemesisStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start the manifest's nemesis schedule in the background.")
    @OptionGroup var input: ManifestArgument
    @Option(help: "Seed every random choice with this instead of the manifest's nemesis.seed.") var seed: UInt64?

    func run() async throws {
      let manifest = try input.load()
      guard var schedule = manifest.nemesis else {
        throw CLIError("\(manifest.path) has no nemesis: section (see docs/manifest.md, \"nemesis\")")
      }
      if let seed { schedule.seed = seed }
      let root = manifest.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let r = try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).startNemesis(schedule, root: root)
        }
        Output.out(
          "nemesis started (pid \(r.pid ?? 0), seed \(schedule.seed))"
            + (r.next.map { "; first: \($0.label) \($0.summary) at \(TimeText.wall($0.at))" } ?? "") + "\n")
      }
    }
  }

  struct NemesisStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stop", abstract: "Stop the nemesis and heal every fault it caused (also after it was killed).")
    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator

    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        let state = try FixtureState.require(root: root)
        let r = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0, executable: .current).stopNemesis(root: root) }
        var healed = r.lifted.map { "\($0.id) \($0.summary)" }
        if !r.restored.isEmpty { healed.append("restarted " + r.restored.joined(separator: ",")) }
        healed += r.changes.map(\.summary)
        Output.out(
          (r.wasRunning ? "nemesis stopped" : "nemesis was not running")
            + (healed.isEmpty ? "; nothing to heal" : "; healed: " + healed.joined(separator: "; ")) + "\n")
      }
    }
  }

  struct NemesisStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status", abstract: "What the nemesis is doing, and its next step.",
      discussion: "--json prints it as versioned JSON; its keys are in the README, \"Faults over time\".")
    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Print it as versioned JSON: state, pid, seed, the steps done, the next one, what it holds in force.") var json = false

    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        _ = try FixtureState.require(root: root)
        let status = try FixtureController.nemesisStatus(root: root)
        if json { return Output.out(try status.map(NemesisStatusReport.init).map { try $0.json() } ?? NemesisStatusReport.none.json()) }
        guard let s = status else {
          return Output.out("No nemesis has run on this fixture.\n")
        }
        let r = s.record
        if let run = s.run {
          Output.out(
            "nemesis running in process, driven by \(run) since \(TimeText.wall(run.startedAt)) (seed \(r.schedule.seed); \(r.stepsDone) step(s) done); it is healed when that run ends\n"
          )
        } else if s.running {
          Output.out("nemesis running (pid \(r.pid!), seed \(r.schedule.seed), since \(TimeText.wall(r.startedAt)); \(r.stepsDone) step(s) done)\n")
        } else if s.died {
          Output.out(
            "nemesis not running: its process (pid \(r.pid.map(String.init) ?? "?")) ended without finishing or being stopped (killed?)\n")
        } else {
          Output.out(
            "nemesis \(r.ended ?? "ended") at \(r.endedAt.map(TimeText.wall) ?? "?") (seed \(r.schedule.seed); \(r.stepsDone) step(s) done)\n")
        }
        let left = s.faults.filter { f in !r.active.contains { $0.faultID == f.id } }
        if !r.active.isEmpty || !left.isEmpty {
          Output.out(s.running ? "In force:\n" : "It left in force (`cthulhu nemesis stop` heals them; `cthulhu heal` lifts the network faults):\n")
          for a in r.active {
            Output.out("  \(a.label)  \(a.summary)" + (s.running ? "  (healed at \(TimeText.wall(a.healAt)))" : "") + "\n")
          }
          for f in left { Output.out("  \(f.id) \(f.summary)\n") }
        }
        if s.running, let n = r.next { Output.out("Next: \(n.label) \(n.summary) at \(TimeText.wall(n.at))\n") }
        if let e = r.lastError { Output.out("Last failure: \(e)\n") }
      }
    }
  }

  /// The detached process behind `nemesis start`: runs the recorded
  /// schedule until its last step, or until SIGTERM (`nemesis stop`,
  /// `destroy`), which it obeys between steps.
  struct NemesisDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_nemesis", shouldDisplay: false)
    @Option var fixture: String

    static let stopping = Atomic<Bool>(false)

    func run() async throws {
      signal(SIGTERM) { _ in NemesisDaemon.stopping.store(true, ordering: .relaxed) }
      signal(SIGINT, SIG_IGN)
      signal(SIGHUP, SIG_IGN)
      guard let state = try FixtureState.load(root: fixture) else { return }
      let root = fixture
      try await failing {
        try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).runNemesis(root: root) { NemesisDaemon.stopping.load(ordering: .relaxed) }
        }
      }
    }
  }
}

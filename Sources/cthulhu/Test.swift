import ArgumentParser
import Foundation
import Manifest
import Orchestrator
import Runner

extension Cthulhu {
  /// `cthulhu test [MANIFEST] [--workload NAME] …`, `cthulhu test --recheck RUN`.
  struct Test: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "test",
      abstract: "Run a workload of the manifest against the fixture, with its nemesis, and check the history.",
      discussion: """
        Applies the fixture when it is not up to date, starts one client per worker, runs \
        the workload's generator and the manifest's nemesis together for the time limit, \
        heals everything, waits final_wait, runs the final reads and checks the history. \
        The run's folder is <fixture root>/runs/<UTC time>-<workload>/ (runs/latest links \
        to the newest): results.json, history.jsonl, junit.xml and more. Ctrl-C stops \
        cleanly and marks the run interrupted. Exit status: 0 valid, 2 invalid, 1 unknown \
        or an error. README, "Correctness runs".
        """)

    @OptionGroup var input: ManifestArgument
    @Option(help: "The workload to run (default: the manifest's only one).") var workload: String?
    @Option(help: ArgumentHelp("Generate operations for this long (30s, 2m).", valueName: "duration"), transform: Parse.duration) var timeLimit:
      Duration?
    @Option(help: "Workers: client processes, one operation in flight each.") var concurrency: Int?
    @Option(help: ArgumentHelp("Operations per second across workers (500/s, 30/m).", valueName: "rate")) var rate: String?
    @Option(help: "Seed the operations and the nemesis's draws (default: a random seed for the operations).") var seed: UInt64?
    @Option(help: ArgumentHelp("Check a stored run again instead (its folder); the run is left as it was.", valueName: "run"))
    var recheck: String?
    @Option(help: "With --recheck: the model to check against (default: the run's).") var model: String?

    func validate() throws {
      if let concurrency, !(1...1000).contains(concurrency) { throw ValidationError("--concurrency takes 1 to 1000 (got \(concurrency)).") }
      if let rate, Workload.rate(rate) == nil { throw ValidationError("--rate takes operations per second such as 500/s or 30/m (got '\(rate)').") }
      if model != nil, recheck == nil { throw ValidationError("--model goes with --recheck RUN; a new run takes the workload's checker.") }
    }

    func run() async throws {
      let (folder, results) = try await failing {
        if let recheck { return try Recheck.run(recheck, model: model) }
        let manifest = try input.load()
        let stop = StopSignal()
        let handler = StopHandler(stop)
        defer { handler.restore() }
        let options = TestOptions(
          workload: workload, timeLimit: timeLimit, concurrency: concurrency, rate: rate.flatMap(Workload.rate),
          seed: seed, stop: stop, progress: { Output.error("cthulhu test: " + $0) })
        return try await Input.withDriver(manifest.driver) { driver in
          try await TestRun(controller: FixtureController(driver: driver, executable: .current), manifest: manifest, options: options).run()
        }
      }
      Output.out(RunText.summary(results, folder: folder))
      if results.exitCode != 0 { throw ExitCode(results.exitCode) }
    }
  }
}

/// Ctrl-C (or SIGTERM) during a run: the first stops it cleanly, a second Ctrl-C exits at once.
final class StopHandler {
  let sources: [any DispatchSourceSignal]
  init(_ stop: StopSignal) {
    sources = [SIGINT, SIGTERM].map { sig in
      signal(sig, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler {
        if stop.requested, sig == SIGINT {
          Output.error("\nAborted: `cthulhu nemesis stop` heals what the nemesis left.")
          _exit(130)
        }
        stop.request()
        Output.error("\nInterrupted: ending the clients, healing, writing the results (Ctrl-C again to abort at once).")
      }
      source.resume()
      return source
    }
  }
  func restore() {
    for s in sources { s.cancel() }
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}

import ArgumentParser
import Foundation
import Runner

extension Cthulhu {
  /// `cthulhu runs`: the fixture's runs, oldest first, with their verdicts.
  struct Runs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "runs", abstract: "List the fixture's test runs with their verdicts (oldest first).")
    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator

    func run() async throws {
      let root = try locator.root(positional: manifest)
      let runs = RunFolder.all(root: root)
      guard !runs.isEmpty else { return Output.out("No runs yet: `cthulhu test` makes one.\n") }
      for run in runs {
        let name = (run.path as NSString).lastPathComponent
        switch Result(catching: { try run.loadResults() }) {
        case .success(let r?):
          let ops = r.counts.values.reduce(0) { $0 + $1.ok + $1.fail + $1.info }
          Output.out("\(name)  \(r.valid.word)\(r.interrupted ? " (interrupted)" : "")  \(r.model)  \(ops) ops  seed \(r.seed)\n")
        case .success(nil): Output.out("\(name)  no results (running, or killed)\n")
        case .failure(let e): Output.out("\(name)  unreadable results: \(e)\n")
        }
      }
    }
  }
}

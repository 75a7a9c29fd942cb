import ArgumentParser
import History

extension Cthulhu {
  /// `cthulhu generate-history`: a list-append history of a simulated store (for bench/elle.sh; hidden).
  struct GenerateHistory: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "generate-history",
      abstract: "Print a list-append history of a simulated strictly serializable store, as JSON Lines.",
      shouldDisplay: false)

    @Option(help: "How many transactions.") var transactions = 1000
    @Option(help: "How many clients run at once.") var processes = 10
    @Option(help: "How many keys.") var keys = 100
    @Option(help: "The random seed (the same seed gives the same history).") var seed: UInt64 = 1
    @Option(help: "An anomaly to inject: none, stale-read or aborted-read.") var anomaly = "none"

    func validate() throws {
      guard ListAppendGenerator.Injected(rawValue: anomaly) != nil else {
        throw ValidationError("--anomaly takes none, stale-read or aborted-read (got '\(anomaly)').")
      }
      guard transactions > 0, processes > 0, keys > 0 else { throw ValidationError("--transactions, --processes and --keys must be positive.") }
    }

    func run() throws {
      let g = ListAppendGenerator(
        transactions: transactions, processes: processes, keys: keys, seed: seed, anomaly: ListAppendGenerator.Injected(rawValue: anomaly)!)
      Output.out(g.jsonLines())
    }
  }
}

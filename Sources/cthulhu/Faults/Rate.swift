import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Rate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "rate",
      abstract: "Limit the bandwidth instances send at (tc tbf on their interface).",
      usage: "cthulhu rate RATE TARGETS… [--for DURATION]")
    @OptionGroup var options: FaultOptions
    @Argument(help: ArgumentHelp("A rate as tc writes it: 512kbit, 10mbit, 1gbit; bytes: 64kbps, 1mbps.", valueName: "rate"), transform: Parse.rate)
    var rate: Int64
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      let bits = rate
      try await options.inject(targets) { .rate(bitsPerSecond: bits, try Targets.resolve($1, in: $0)) }
    }
  }
}

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
    @Argument(help: "A rate as tc writes it: 512kbit, 10mbit, 1gbit; bytes: 64kbps, 1mbps.") var rate: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      guard let bits = Fault.parseRate(rate) else {
        throw ValidationError("Please give a rate such as 512kbit, 10mbit, 1gbit (bits) or 64kbps, 1mbps (bytes) (got '\(rate)').")
      }
      try await options.inject(targets) { .rate(bitsPerSecond: bits, try Targets.resolve($1, in: $0)) }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Loss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "loss",
      abstract: "Drop a share of the packets arriving at instances (iptables statistic).",
      usage: "cthulhu loss PERCENT TARGETS… [--for DURATION]")
    @OptionGroup var options: FaultOptions
    @Argument(help: "Percent of packets to drop, 0 to 100 (30 or 30%).") var percent: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      guard let p = Double(percent.hasSuffix("%") ? String(percent.dropLast()) : percent), p >= 0, p <= 100 else {
        throw ValidationError("Please give the loss as a percentage from 0 to 100, e.g. 30 or 30% (got '\(percent)').")
      }
      try await options.inject(targets) { .loss(percent: p, try Targets.resolve($1, in: $0)) }
    }
  }
}

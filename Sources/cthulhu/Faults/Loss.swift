import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Loss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "loss",
      abstract: "Drop a share of the packets arriving at instances (iptables statistic).",
      usage: """
        cthulhu loss PERCENT TARGETS… [--for DURATION]
          cthulhu loss PERCENT --between SET --and SET [--for DURATION]
        """,
      discussion: "With --between and --and, only the packets between the two sets are dropped, both ways.")
    @OptionGroup var options: FaultOptions
    @Argument(help: ArgumentHelp("Percent of packets to drop, 0 to 100 (30 or 30%).", valueName: "percent"), transform: Parse.percent) var percent:
      Double
    @OptionGroup var link: LinkOptions
    @Argument(help: "Instances: names, globs, groups, all, or comma lists (none with --between).") var targets: [String] = []
    func validate() throws { try link.validate(targets: targets) }
    func run() async throws {
      let p = percent
      if let (a, b) = link.sets {
        try await options.inject(targets, empty: []) { state, _ in
          .linkLoss(percent: p, between: try Targets.resolve([a], in: state), and: try Targets.resolve([b], in: state))
        }
        return
      }
      try await options.inject(targets) { .loss(percent: p, try Targets.resolve($1, in: $0)) }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Isolate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "isolate",
      abstract: "Cut instances off the network entirely (everything but loopback, both ways).")
    @OptionGroup var options: FaultOptions
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      try await options.inject(targets) { .isolate(try Targets.resolve($1, in: $0)) }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct ClockCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "clock",
      abstract: "Skew the wall clock of instances (libfaketime; their group says clock_skew: true), or set it back.",
      subcommands: [Skew.self, Reset.self])

    struct Skew: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "skew",
        abstract: "Move the wall clock of instances by an offset while they run.",
        usage: "cthulhu clock skew OFFSET TARGETS… [--for DURATION]",
        discussion: """
          OFFSET is a signed duration: +5s, -250ms, +2m, -1h. Only the wall clock moves (time(),
          gettimeofday, CLOCK_REALTIME); the monotonic clocks, and so timers and sleeps, keep their pace.
          A second skew on an instance replaces the first. `clock reset` or `heal` sets it back.
          Dynamically linked programs only: a static binary (busybox-static, most Go programs) cannot be skewed.
          """)
      @OptionGroup var options: FaultOptions
      @Argument(parsing: .allUnrecognized, help: "The offset (+5s, -250ms), then the instances: names, globs, groups, all, or comma lists.")
      var arguments: [String] = []

      func run() async throws {
        // `clock skew -- -5s i001` as well as `clock skew -5s i001`.
        let arguments = self.arguments.first == "--" ? Array(self.arguments.dropFirst()) : self.arguments
        guard let text = arguments.first, let seconds = ClockSkew.parse(text) else {
          throw ValidationError(
            "Please give the offset as a signed duration such as +5s, -250ms or +2m, then the instances (got '\(arguments.first ?? "")').")
        }
        let targets = Array(arguments.dropFirst())
        guard !targets.isEmpty else { throw ValidationError("Please name the instances whose clock to skew (names, groups, all).") }
        try await options.inject(targets) { .clockSkew(seconds: seconds, try Targets.resolve($1, in: $0)) }
      }
    }

    struct Reset: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Set the wall clock of instances back (every skewed instance by default).")
      @OptionGroup var locator: FixtureLocator
      @Argument(help: "Instances (default: every skewed one).") var targets: [String] = []
      func run() async throws {
        try await Heal.lift(locator: locator, targets: targets, verb: "clock reset", nothing: "No clock was skewed.") {
          try await $0.resetClocks(root: $1, names: $2)
        }
      }
    }
  }
}

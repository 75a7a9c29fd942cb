import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Delay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delay",
      abstract: "Delay the packets instances send (tc netem), or without sch_netem those they receive (NFQUEUE).",
      usage: """
        cthulhu delay DURATION [--jitter DURATION [--distribution normal|uniform]] [--reorder PERCENT] [--path netem|queue] TARGETS… [--for DURATION]
          cthulhu delay DURATION [--jitter …] --between SET --and SET [--for DURATION]
        """,
      discussion: """
        With --between and --and, only the link between the two sets is delayed, both ways: each packet
        from one set to the other waits DURATION (a round trip across the link gains twice it). Each set is
        names, globs, groups or a comma list, as for partition. Links with different delays may be in force
        at once (a latency matrix); on a pair two links cover, the later one counts.
        With --reorder, that share of the packets goes at once and the rest wait, so the undelayed ones
        overtake (netem's reorder). Jitter alone reorders too: packets leave in the order they are due.
        """)
    @OptionGroup var options: FaultOptions
    @Option(help: ArgumentHelp("Random variation around the delay (20ms).", valueName: "duration"), transform: Parse.duration) var jitter: Duration?
    @Option(
      help: "How the jitter is spread: normal (the jitter is one standard deviation; the default) or uniform (delay ± jitter, every value as likely)."
    )
    var distribution: PacketDelayer.Distribution = .normal
    @Option(
      help: ArgumentHelp("Percent of packets let through at once, undelayed, so that they overtake the rest (25 or 25%).", valueName: "percent"),
      transform: Parse.percent)
    var reorder: Double?
    @Option(
      help:
        "How the delay is carried: netem (the packets instances send) or queue (NFQUEUE and a cthulhu process: the packets they receive). Default: netem where the kernel has it."
    )
    var path: Fault.DelayPath?
    @Argument(help: ArgumentHelp("The delay: 100ms, 1s.", valueName: "duration"), transform: Parse.duration) var delay: Duration
    @OptionGroup var link: LinkOptions
    @Argument(help: "Instances: names, globs, groups, all, or comma lists (none with --between).") var targets: [String] = []
    func validate() throws { try link.validate(targets: targets) }
    func run() async throws {
      let ms = delay.milliseconds
      let jit = jitter?.milliseconds
      let share = reorder
      let spread = distribution
      if let (a, b) = link.sets {
        try await options.inject(targets, empty: [], delayPath: path) { state, _ in
          .linkDelay(
            milliseconds: ms, jitter: jit, distribution: spread, reorder: share, between: try Targets.resolve([a], in: state),
            and: try Targets.resolve([b], in: state))
        }
        return
      }
      try await options.inject(targets, delayPath: path) {
        .delay(milliseconds: ms, jitter: jit, distribution: spread, reorder: share, try Targets.resolve($1, in: $0))
      }
    }
  }
}

extension Fault.DelayPath: ExpressibleByArgument {}

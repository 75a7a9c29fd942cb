import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  /// What the fixture's `control` shims call: `./control start`, `./i001/control stop`,
  /// `./control partition i001 i002,i003`. Every verb is the cthulhu command of
  /// the same name, with the fixture (and, from an instance's shim, the instance) filled in.
  struct Control: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "control",
      abstract: "Drive a fixture the way its control scripts do (`control help` lists the verbs).")

    @Option(help: "The fixture folder.") var fixture: String
    @Option(help: "Act on one instance only.") var instance: String?
    @Argument(help: "A verb; `help` lists them.") var verb: String = "help"
    @Argument(parsing: .captureForPassthrough) var rest: [String] = []

    /// Verbs and what they do, as `control help` prints them.
    static let verbs: [(String, String)] = [
      ("start", "start the instance(s); succeeds when already running"),
      ("stop", "stop the instance(s): SIGTERM, then SIGKILL after stop_timeout"),
      ("restart", "stop, then start"),
      ("kill [SIGNAL]", "send a signal (default KILL)"),
      ("kill --lose-unsynced [--torn]", "crash: KILL, and what was not fsynced on mounts with faults is lost"),
      ("pause | unpause", "freeze or thaw"),
      ("status [--json]", "state, health, ports and faults of each instance"),
      ("logs [-f] [--since D]", "the instance(s)' output"),
      ("exec -- CMD…", "run a command in the instance (fixture shim: exec TARGET -- CMD…)"),
      ("partition SETS… | --halves…", "cut the network between sets of instances (fixture shim)"),
      ("isolate", "cut the instance(s) off the network"),
      ("loss PERCENT", "drop a share of incoming packets"),
      ("duplicate PERCENT", "deliver a share of incoming packets twice"),
      ("rate RATE", "limit outgoing bandwidth (512kbit, 10mbit)"),
      ("delay DURATION [--jitter D] [--reorder P]", "delay packets (netem, or NFQUEUE without sch_netem); P% go at once"),
      ("delay|loss|duplicate … --between SET --and SET", "delay, drop or duplicate only the packets between two sets (fixture shim)"),
      ("clock skew OFFSET | clock reset", "move the wall clock (+5s, -250ms) or set it back (clock_skew: true)"),
      ("disk delay D | disk error ERRNO [--ops …] [--path RE]", "slow or fail file operations on the mounts with faults"),
      ("disk corrupt --path RE --bitflip N|…", "corrupt files at rest (the instance stopped)"),
      ("disk status [--json]", "the disk layers: unsynced data, rules and their counts"),
      ("disk sync", "make what is on the mounts with faults durable, as sync(2) would"),
      ("heal", "lift faults"),
      ("reset [--data]", "back to the applied state: heal, start, thaw, rewrite edited files (--data: empty var too)"),
      ("faults", "list the faults in force"),
      ("nemesis start|stop|status", "the manifest's nemesis schedule, in the background (fixture shim)"),
      ("events [-f]", "the fixture's timeline"),
      ("op --process N --f F [--value V] -- CMD…", "run a client call, record it in history.jsonl"),
      ("check [--model M]", "is history.jsonl linearizable? (exit 0 yes, 2 no)"),
      ("help", "this list"),
    ]

    static func helpText(instance: String?) -> String {
      let who = instance.map { "instance \($0)" } ?? "every instance (or the TARGETS given)"
      var text = "Usage: ./control VERB [ARGS…] — acts on \(who).\n"
      text += "Fault verbs take --for DURATION to lift themselves. Targets: names, globs, groups, all, comma lists.\n\n"
      let width = verbs.map(\.0.count).max() ?? 0
      for (v, what) in verbs { text += "  " + v.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + what + "\n" }
      return text
    }

    func run() async throws {
      let root = Input.absolute(fixture)
      let (name, args) = try Self.translate(verb: verb, rest: rest, root: root, instance: instance)
      if name == "help" {
        Output.out(Self.helpText(instance: instance))
        return
      }
      var command = try Cthulhu.parseAsRoot([name] + args)
      if var async = command as? any AsyncParsableCommand {
        try await async.run()
      } else {
        try command.run()
      }
    }

    /// The cthulhu command line a control verb stands for.
    static func translate(verb: String, rest: [String], root: String, instance: String?) throws -> (String, [String]) {
      let fixtureArgs = ["--fixture", root]
      let targets = instance.map { [$0] } ?? []
      switch verb {
      case "help", "-h", "--help": return ("help", [])
      case "start", "stop", "restart", "pause", "unpause":
        return (verb, fixtureArgs + (rest.isEmpty ? targets : rest))
      case "kill":
        // `kill [SIGNAL] [--lose-unsynced [--torn] [--seed N]]`
        var flags: [String] = []
        var words: [String] = []
        var it = rest.makeIterator()
        while let a = it.next() {
          if a == "--seed" {
            flags += [a] + (it.next().map { [$0] } ?? [])
          } else if a.hasPrefix("--") {
            flags.append(a)
          } else {
            words.append(a)
          }
        }
        let signal = words.first.map { ["--signal", $0] } ?? []
        return ("kill", fixtureArgs + signal + flags + (targets.isEmpty ? ["all"] : targets))
      case "status", "faults", "events", "op", "check":
        return (verb, fixtureArgs + rest)
      case "isolate", "heal", "reset":
        return (verb, fixtureArgs + rest + targets)
      case "loss", "duplicate", "rate", "delay", "logs":
        return (verb, fixtureArgs + rest + targets)
      case "exec":
        return ("exec", fixtureArgs + targets + rest)
      case "nemesis":
        guard instance == nil else {
          throw ValidationError("The nemesis acts on the whole fixture: use the fixture's ./control nemesis start|stop|status.")
        }
        return ("nemesis", Array(rest.prefix(1)) + fixtureArgs + rest.dropFirst())
      case "clock", "disk":
        // `clock skew +5s`, `clock reset`, `disk sync`: the subcommand first, its arguments and targets after.
        return (verb, Array(rest.prefix(1)) + fixtureArgs + rest.dropFirst() + targets)
      case "partition":
        guard instance == nil else {
          throw ValidationError(
            "partition names several instances: use the fixture's ./control partition (e.g. ./control partition \(instance!) others), or ./control isolate here."
          )
        }
        return ("partition", fixtureArgs + rest)
      default:
        Output.error("error: unknown verb '\(verb)'; `./control help` lists the verbs")
        throw ExitCode.validationFailure
      }
    }
  }
}

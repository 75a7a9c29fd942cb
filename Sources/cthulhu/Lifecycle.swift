import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// `cthulhu start|stop|restart|kill|pause|unpause TARGETS…`: one body, six verbs.
protocol LifecycleCommand: AsyncParsableCommand {
  static var verb: LifecycleVerb { get }
  var locator: FixtureLocator { get }
  var targets: [String] { get }
  var signalName: String { get }
}

extension LifecycleCommand {
  var signalName: String { "KILL" }

  func run() async throws { try await runLifecycle() }

  func runLifecycle() async throws {
    let (target, targets) = try locator.target(instances: self.targets)
    let root = target.root
    try await failing {
      let state = try FixtureState.require(root: root)
      let names = try Targets.resolve(targets, in: state)
      let signal = Signals.canonical(signalName) ?? signalName
      let done = try await Input.withDriver(state.driver) {
        try await FixtureController(driver: $0, executable: .current).lifecycle(Self.verb, root: root, names: names, signal: signal)
      }
      Output.out(done.isEmpty ? "Nothing to do.\n" : "\(Self.verb.rawValue): \(done.joined(separator: " "))\n")
    }
  }
}

extension Cthulhu {
  struct Start: LifecycleCommand {
    static let configuration = CommandConfiguration(
      commandName: "start", abstract: "Start instances (succeeds when they already run); their faults are put back.")
    static let verb = LifecycleVerb.start
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]
  }
  struct Stop: LifecycleCommand {
    static let configuration = CommandConfiguration(
      commandName: "stop", abstract: "Stop instances: SIGTERM, then SIGKILL after stop_timeout (succeeds when already stopped).")
    static let verb = LifecycleVerb.stop
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]
  }
  struct Restart: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Stop and start instances; their faults are put back.")
    static let verb = LifecycleVerb.restart
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]
  }
  struct Kill: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to instances (default KILL).")
    static let verb = LifecycleVerb.kill
    @OptionGroup var locator: FixtureLocator
    @Option(name: .customLong("signal"), help: "Signal name: KILL, TERM, HUP, …") var signalName: String = "KILL"
    @Flag(
      name: .customLong("lose-unsynced"),
      help: "A crash: SIGKILL, then every write not made durable (fsync) on the instances' mounts with faults is lost.")
    var loseUnsynced = false
    @Flag(help: "With --lose-unsynced: the last unsynced write of a file survives in part.") var torn = false
    @Option(help: "With --torn: the seed of which part survives (default: drawn, and printed).") var seed: UInt64?
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func validate() throws {
      guard Signals.canonical(signalName) != nil else {
        throw ValidationError("Please give --signal a signal name such as \(Signals.common) (got '\(signalName)').")
      }
      if loseUnsynced && Signals.canonical(signalName) != "KILL" {
        throw ValidationError("--lose-unsynced is a crash: it sends KILL, not \(signalName).")
      }
      if (torn || seed != nil) && !loseUnsynced { throw ValidationError("--torn and --seed go with --lose-unsynced.") }
    }

    func run() async throws {
      guard loseUnsynced else { return try await runLifecycle() }
      let (target, targets) = try locator.target(instances: self.targets)
      let root = target.root
      let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = try Targets.resolve(targets, in: state)
        let reports = try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).crash(root: root, names: names, torn: torn, seed: seed)
        }
        Output.out("kill --lose-unsynced\(torn ? " --torn --seed \(seed)" : ""): \(reports.map(\.instance).joined(separator: " "))\n")
        for r in reports { Output.out("  \(r.summary)\n") }
      }
    }
  }
  struct Pause: LifecycleCommand {
    static let configuration = CommandConfiguration(
      commandName: "pause", abstract: "Freeze instances (cgroup freezer): they hold their sockets but answer nothing.")
    static let verb = LifecycleVerb.pause
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
  }
  struct Unpause: LifecycleCommand {
    static let configuration = CommandConfiguration(commandName: "unpause", abstract: "Thaw paused instances.")
    static let verb = LifecycleVerb.unpause
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu.DiskCommand {
  /// `disk status [TARGETS…] [--json]`: each layer, what it holds unsynced, and its rules with their counts.
  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "The disk layers of instances: running, what is not yet durable, the rules in force and what they did.")
    @OptionGroup var locator: FixtureLocator
    @Option(help: "Only this mount (its name in the manifest).") var mount: String?
    @Flag(help: "Print JSON.") var json = false
    @Argument(help: "Instances (default: every one with a mount with faults).") var targets: [String] = []

    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets, empty: [])
      let root = target.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = targets.isEmpty ? nil : try Targets.resolve(targets, in: state)
        let layers = try await Input.withDriver(state.driver) {
          try FixtureController(driver: $0, executable: .current).diskStatus(root: root, names: names, mount: mount)
        }
        if json { return try Output.json(layers) }
        if layers.isEmpty { return Output.out("No disk layers (no mount says faults: true).\n") }
        for l in layers {
          guard let s = l.status else {
            Output.out(
              "\(l.instance)/\(l.mount): "
                + (l.running ? "running, but its control socket gave no answer\n" : "not running (`cthulhu apply` starts it anew)\n"))
            continue
          }
          Output.out(
            "\(l.instance)/\(l.mount): running; unsynced: \(s.unsyncedFiles) file(s), \(s.savedBytes) durable byte(s) kept aside, "
              + "\(s.changedDirectories) folder(s)\n")
          if l.faults == nil { Output.out("  (these rules are not the fault book's: set on the layer's socket by hand?)\n") }
          for (i, r) in s.rules.enumerated() {
            let id = l.faults.map { $0[i] + ": " } ?? ""
            Output.out("  \(id)\(Fault.ruleText(r.rule)): matched \(r.matched), delayed \(r.delayed), failed \(r.failed)\n")
          }
        }
      }
    }
  }
}

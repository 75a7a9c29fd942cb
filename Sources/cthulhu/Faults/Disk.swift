import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  /// `cthulhu disk …`: the disk layer of the mounts that say `faults: true`.
  struct DiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "disk",
      abstract: "Disk faults on the mounts that say faults: true (cthulhu's disk layer).",
      discussion: "A crash that loses what was not fsynced is `cthulhu kill --lose-unsynced`. `heal` lifts delays and errors.",
      subcommands: [DelayRule.self, ErrorRule.self, Corrupt.self, Status.self, Sync.self])

    struct Sync: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Make everything on the instances' mounts with faults durable as it stands, as sync(2) would.",
        discussion: """
          The layer keeps what was not fsynced for ever, where a kernel writes it back within seconds;
          `disk sync` stands for that write-back (a program's first files, before a run). A later
          `kill --lose-unsynced` loses only what is written after it.
          """)
      @OptionGroup var locator: FixtureLocator
      @Option(help: "Only this mount (its name in the manifest).") var mount: String?
      @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = ["all"]

      func run() async throws {
        let (target, targets) = try locator.target(instances: self.targets)
        let root = target.root
        try await failing {
          let state = try FixtureState.require(root: root)
          let names = try Targets.resolve(targets, in: state)
          let done = try await Input.withDriver(state.driver) {
            try await FixtureController(driver: $0, executable: .current).syncDisks(root: root, names: names, mount: mount)
          }
          for d in done {
            Output.out("disk sync \(d.instance)/\(d.mount): \(d.was.unsyncedFiles) file(s) and \(d.was.changedDirectories) folder(s) made durable\n")
          }
        }
      }
    }
  }
}

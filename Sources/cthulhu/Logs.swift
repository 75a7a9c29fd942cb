import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "logs",
      abstract: "Print instances' output; several are merged, each line prefixed with its instance.")

    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Keep printing new lines (-f names a manifest, as everywhere).") var follow = false
    @Option(help: ArgumentHelp("Only lines newer than this: 30s, 5m, 1h30m.", valueName: "duration"), transform: Parse.duration) var since: Duration?
    @Argument(help: "Instances: names, globs, group names, all, or comma lists.") var targets: [String] = ["all"]

    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets)
      let root = target.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = try Targets.resolve(targets, in: state)
        let prefix = names.count > 1
        let from = since.map { Date().addingTimeInterval(-$0.seconds) }
        try await Input.withDriver(state.driver) { driver in
          let controller = FixtureController(driver: driver, executable: .current)
          for try await (name, line) in try controller.logs(root: root, names: names, follow: follow, since: from) {
            let text = (prefix ? "\(name) | " : "") + line.text + "\n"
            if line.stream == .stderr { Output.error(text) } else { Output.out(text) }
          }
        }
      }
    }
  }

  struct Exec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "exec",
      abstract: "Run a command inside one instance; its exit code is passed through.",
      usage: "cthulhu exec [MANIFEST | --fixture DIR | -f MANIFEST] TARGET -- COMMAND [ARG...]")

    @OptionGroup var locator: FixtureLocator
    @Argument(help: "One instance, or the manifest and then one instance.") var first: String
    @Argument(help: "The instance, when the first argument is the manifest.") var second: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments.") var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else { throw ValidationError("Please give a command after --, e.g. cthulhu exec i001 -- cat /etc/hostname") }
    }

    func run() async throws {
      let (fixture, rest) = try locator.target(instances: [first] + (second.map { [$0] } ?? []), empty: [])
      guard rest.count == 1, let target = rest.first else {
        throw CLIError("exec runs in one instance: give one name before -- (got \(rest.isEmpty ? "none" : rest.joined(separator: " ")))")
      }
      let root = fixture.root
      let code: Int32 = try await failing {
        let state = try FixtureState.require(root: root)
        let names = try Targets.resolve([target], in: state)
        guard names.count == 1 else {
          throw OrchestratorError(.badTargets, "'\(target)' must name exactly one instance (it matches \(names.joined(separator: ", ")))")
        }
        let r = try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).exec(root: root, instance: names[0], command: command)
        }
        Output.out(r.stdout)
        if !r.stderr.isEmpty { Output.error(r.stderr) }
        return r.exitCode
      }
      if code != 0 { throw ExitCode(code) }
    }
  }
}

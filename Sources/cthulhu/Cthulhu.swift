import ArgumentParser
import Foundation

@main
struct Cthulhu: AsyncParsableCommand {
  /// `cthulhu --version`; raised with each change a user can see.
  static let version = "0.6.0"

  static let configuration = CommandConfiguration(
    commandName: "cthulhu",
    abstract: "Distributed-system test fixtures from a YAML manifest, exposed as a filesystem.",
    version: version,
    subcommands: [
      Validate.self, Plan.self, Apply.self, Destroy.self, Status.self, Schema.self, Init.self, Control.self, Logs.self, Exec.self, Events.self,
      Start.self, Stop.self, Restart.self, Kill.self, Pause.self, Unpause.self, Reset.self,
      Partition.self, Isolate.self, Loss.self, Duplicate.self, Rate.self, Delay.self, ClockCommand.self, DiskCommand.self, Heal.self,
      Faults.self, Nemesis.self,
      Reap.self,
      DelayDaemon.self, NemesisDaemon.self, DiskDaemon.self,
      Op.self, Check.self, Graph.self, Test.self, Runs.self, GenerateHistory.self,
    ]
  )

  /// As argument-parser's, except that a mistake is one `error:` line that
  /// says what to do, without the usage block (`--help` still prints it).
  static func main() async {
    do {
      var command = try await asyncParseAsRoot(nil)
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      let code = exitCode(for: error)
      // Help, and errors already reported (ExitCode), go the usual way.
      if code == .success || error is ExitCode { exit(withError: error) }
      let text: String
      if let e = error as? CLIError { text = e.description } else { text = message(for: error) }
      if !text.isEmpty {
        FileHandle.standardError.write(Data("error: \(text)\n".utf8))
      }
      Foundation.exit(code.rawValue)
    }
  }
}

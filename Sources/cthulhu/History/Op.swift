import ArgumentParser
import Foundation
import History
import Manifest
import Orchestrator

extension Cthulhu {
  /// `cthulhu op --process 2 --f write --value 7 -- curl -fsS -X PUT …`
  struct Op: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "op",
      abstract: "Run one client call and record it as an operation in the fixture's history.jsonl.",
      discussion: """
        Appends the invoke, runs the command, then appends the completion: ok when it \
        exits 0 (a read or get takes the command's output as its value), fail for an \
        exit code in --fail-codes (the call did not happen), info otherwise or on \
        --timeout (its outcome is unknown). Exits with the command's status (124 on \
        timeout). Safe with many recorders at once. Check the history with `cthulhu check`.
        """)

    @Option(help: "The client's number: one operation at a time each; a new number after a crash.")
    var process: Int
    @Option(name: .customLong("f"), help: "The operation: read, write, cas (register); get, put, append (kv).")
    var f: String
    @Option(help: "Its argument: JSON when it is JSON (7, \"x\", [1,2] for cas), else the text; kv values are text.")
    var value: String?
    @Option(help: "The key, for kv operations.") var key: String?
    @Option(help: ArgumentHelp("Exit codes that mean the call did not happen, e.g. 1,2.", valueName: "codes"))
    var failCodes: String?
    @Option(
      help: ArgumentHelp("Give up on the call after this long: recorded as info (500ms, 5s).", valueName: "duration"), transform: Parse.duration)
    var timeout: Duration?
    @Option(help: ArgumentHelp("Record here instead of the fixture's history.jsonl.", valueName: "file"))
    var history: String?
    @OptionGroup var locator: FixtureLocator
    @Argument(parsing: .postTerminator, help: "The client call, after --.") var command: [String] = []

    func validate() throws {
      guard !command.isEmpty else {
        throw ValidationError("Please give the client call after --, e.g. cthulhu op --process 1 --f read -- curl -fsS http://…")
      }
      guard process >= 0 else { throw ValidationError("--process takes a number ≥ 0 (got \(process)).") }
      _ = try codes()
    }

    func codes() throws -> Set<Int32> {
      guard let failCodes else { return [] }
      var all = Set<Int32>()
      for part in failCodes.split(separator: ",") {
        guard let c = Int32(part.trimmingCharacters(in: .whitespaces)), (1...255).contains(c) else {
          throw ValidationError("--fail-codes takes exit codes from 1 to 255, comma-separated, e.g. 1,2 (got '\(failCodes)').")
        }
        all.insert(c)
      }
      return all
    }

    func run() async throws {
      let path: String
      if let history {
        path = Input.absolute(history)
      } else {
        let root = try locator.root()
        guard FileManager.default.fileExists(atPath: root) else {
          throw CLIError("no fixture at \(root): apply one first, or record elsewhere with --history FILE")
        }
        path = FixturePaths(root: root).history
      }
      let request = OperationRecorder.Request(
        process: process, f: f, value: OperationRecorder.value(value, f: f), key: key, command: command,
        timeout: timeout, failCodes: try codes())
      let result = try await failing { try OperationRecorder(log: HistoryLog(path: path)).record(request) }
      if let problem = result.problem { Output.error("cthulhu op: \(problem)") }
      if result.status != 0 { throw ExitCode(result.status) }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  /// What the fixture's `control` shims call: `./control start`, `./i001/control stop`.
  struct Control: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Drive a fixture the way its control scripts do.",
      discussion: """
        Verbs: start, stop, restart, kill [SIGNAL], pause, unpause, status, help.
        <fixture>/control VERB acts on every instance; <fixture>/<ip>/control VERB on one.
        start and stop succeed when the instances are already so.
        """)

    @Option(help: "The fixture folder.") var fixture: String
    @Option(help: "Act on one instance only.") var instance: String?
    @Argument(help: "start | stop | restart | kill [SIGNAL] | pause | unpause | status | help") var verb: String = "help"
    @Argument(parsing: .captureForPassthrough) var rest: [String] = []

    func run() async throws {
      let root = Input.absolute(fixture)
      if verb == "help" {
        Output.out(Self.helpMessage())
        return
      }
      if verb == "status" {
        var status = try Cthulhu.Status.parse(["--fixture", root])
        try await status.run()
        return
      }
      guard let v = LifecycleVerb(rawValue: verb) else {
        throw ValidationError("Please use one of: start, stop, restart, kill, pause, unpause, status, help (got '\(verb)').")
      }
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = instance.map { [$0] } ?? []
        let signal = v == .kill ? (rest.first.map { $0.uppercased().replacingOccurrences(of: "SIG", with: "") } ?? "KILL") : "KILL"
        let done = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).lifecycle(v, root: root, names: names, signal: signal) }
        Output.out(done.isEmpty ? "Nothing to do.\n" : "\(verb): \(done.joined(separator: " "))\n")
      }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// What every fault command takes: the fixture and `--for`.
struct FaultOptions: ParsableArguments {
  @OptionGroup var locator: FixtureLocator
  @Option(
    name: .customLong("for"), help: ArgumentHelp("Lift the fault by itself after this long (500ms, 30s, 2m).", valueName: "duration"),
    transform: Parse.duration)
  var lasting: Duration?

  /// Loads the fixture (a manifest among `arguments` may name it), turns the
  /// rest of the arguments into a request, injects it and prints the fault made.
  func inject(
    _ arguments: [String], empty: [String] = ["all"], delayPath: Fault.DelayPath? = nil,
    _ request: @escaping @Sendable (FixtureState, [String]) throws -> FaultRequest
  ) async throws {
    let (target, arguments) = try locator.target(instances: arguments, empty: empty)
    let root = target.root
    try await failing {
      let state = try FixtureState.require(root: root)
      let req = try request(state, arguments)
      let f = try await Input.withDriver(state.driver) {
        try await FixtureController(driver: $0, executable: .current).inject(req, root: root, lasting: lasting, delayPath: delayPath)
      }
      Output.out("\(f.id): \(f.summary)" + (f.expiresAt.map { " (until \(TimeText.wall($0)))" } ?? "") + "\n")
    }
  }
}

/// `--between SET --and SET`: a fault on the link between two sets only.
struct LinkOptions: ParsableArguments {
  @Option(help: ArgumentHelp("One end of the link: names, globs, groups or a comma list.", valueName: "set")) var between: String?
  @Option(name: .customLong("and"), help: ArgumentHelp("The other end of the link.", valueName: "set")) var other: String?

  var sets: (String, String)? { between.flatMap { a in other.map { (a, $0) } } }

  /// Both ends or neither; no TARGETS beside them (a manifest file may be given).
  func validate(targets: [String]) throws {
    if (between == nil) != (other == nil) {
      throw ValidationError("Please give both ends of the link: --between SET --and SET (e.g. --between i001,i002 --and i003).")
    }
    if between != nil, targets.contains(where: { !Input.looksLikeManifest($0) }) {
      throw ValidationError("Please give either TARGETS or --between SET --and SET, not both.")
    }
    if between == nil, targets.isEmpty {
      throw ValidationError("Please give the instances (TARGETS), or a link with --between SET --and SET.")
    }
  }
}

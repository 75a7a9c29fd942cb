import Foundation

/// `targets: { command: [...] }`: the program that chooses a nemesis
/// occurrence's instances when it starts ("the current primary"). It runs
/// in the manifest's folder with the fixture's `CTHULHU_FIXTURE` and
/// `CTHULHU_SPEC` (the spec.json path) added to cthulhu's environment, and
/// prints instance names, one a line. It must exit 0 within ``timeout``
/// and print only names of the fixture's instances.
public struct NemesisTargetCommand: Sendable {
  public var command: [String]
  public var directory: String?
  /// The fixture's root.
  public var root: String
  public var timeout: Duration = .seconds(10)

  public init(command: [String], directory: String?, root: String) {
    self.command = command
    self.directory = directory
    self.root = root
  }

  /// The names it prints, checked against `instances` (the fixture's names);
  /// `entry` (from 1) says whose targets they are, `fewest` and `most` how
  /// many the fault takes. Throws ``OrchestratorError`` `.exited` when the command
  /// fails or prints what is not a fit.
  public func choose(among instances: [String], entry: Int, fewest: Int, most: Int? = nil) async throws -> [String] {
    let shown = "the targets command of nemesis fault \(entry) (`\(command.joined(separator: " "))`)"
    let env =
      Spawner.inheritedEnvironment.filter { !$0.hasPrefix("CTHULHU_FIXTURE=") && !$0.hasPrefix("CTHULHU_SPEC=") } + [
        "CTHULHU_FIXTURE=\(root)", "CTHULHU_SPEC=\(FixturePaths(root: root).spec)",
      ]
    let out: Spawner.Output
    do {
      out = try await Spawner.run(command, env: env, cwd: directory, timeout: timeout)
    } catch {
      throw OrchestratorError(.exited, "\(shown) could not start: \(error)")
    }
    let stderr = String(decoding: out.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let said = stderr.isEmpty ? "" : ": " + String(stderr.suffix(300))
    if out.timedOut { throw OrchestratorError(.exited, "\(shown) did not finish within \(timeout) and was killed\(said)") }
    guard out.status == 0 else { throw OrchestratorError(.exited, "\(shown) exited with status \(out.status)\(said)") }
    var names: [String] = []
    for line in String(decoding: out.stdout, as: UTF8.self).split(whereSeparator: \.isNewline) {
      let name = line.trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty, !names.contains(name) else { continue }
      guard instances.contains(name) else {
        throw OrchestratorError(
          .exited, "\(shown) printed '\(name)', which is no instance of the fixture (it has \(instances.joined(separator: ", ")))")
      }
      names.append(name)
    }
    guard names.count >= fewest else {
      let got = names.isEmpty ? "no instance name" : "\(names.count) (\(names.joined(separator: ", ")))"
      throw OrchestratorError(.exited, "\(shown) printed \(got); the fault needs at least \(fewest)")
    }
    if let most, names.count > most {
      throw OrchestratorError(
        .exited,
        "\(shown) printed \(names.count) names (\(names.joined(separator: ", "))); the fault takes at most \(most), leaving others to cut them from")
    }
    return names
  }
}

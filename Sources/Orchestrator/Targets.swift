import Foundation

/// Instance selection as every command takes it: names (`i001`), globs
/// (`i00*`), group names (`server`), `all`, and comma lists of these.
public enum Targets {
  /// The instance names `specs` select, in name order; an unknown word is an error.
  public static func resolve(_ specs: [String], in state: FixtureState) throws -> [String] {
    var picked = Set<String>()
    let names = state.instances.map(\.name)
    for word in specs.flatMap({ $0.split(separator: ",").map(String.init) }) where !word.isEmpty {
      let hits: [String]
      if word == "all" {
        hits = names
      } else if state.instances.contains(where: { $0.group == word }) {
        hits = state.instances.filter { $0.group == word }.map(\.name)
      } else if word.contains(where: { "*?[".contains($0) }) {
        hits = names.filter { fnmatch(word, $0, 0) == 0 }
      } else {
        hits = names.filter { $0 == word }
      }
      guard !hits.isEmpty else {
        let groups = Array(Set(state.instances.map(\.group))).sorted()
        throw OrchestratorError(
          .noInstance,
          "'\(word)' matches no instance of fixture '\(state.fixture)' (instances \(names.joined(separator: ", ")); groups \(groups.joined(separator: ", ")); or all)"
        )
      }
      picked.formUnion(hits)
    }
    return names.filter(picked.contains)
  }
}

import ArgumentParser
import Manifest

extension Cthulhu {
  struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "validate",
      abstract: "Check a manifest: every problem at once, compiler style; exit 1 if any.")

    @OptionGroup var input: ManifestArgument

    func run() async throws {
      let m = try input.load()
      let total = m.groups.reduce(0) { $0 + $1.count }
      Output.out(
        "\(input.manifest ?? m.path): fixture '\(m.fixture)', \(m.groups.count) group\(m.groups.count == 1 ? "" : "s"), "
          + "\(total) instance\(total == 1 ? "" : "s") (\(m.driver.rawValue))\n")
    }
  }
}

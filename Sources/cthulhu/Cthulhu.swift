import ArgumentParser

@main
struct Cthulhu: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cthulhu",
    abstract: "Distributed-system test fixtures from a YAML manifest, exposed as a filesystem.",
    subcommands: []
  )
}

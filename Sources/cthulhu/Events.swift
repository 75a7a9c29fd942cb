import ArgumentParser
import Foundation
import Orchestrator

extension Cthulhu {
  struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "events",
      abstract: "Print the fixture's event log (every apply step and control action) as a timeline.")

    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Keep printing events as they are appended (Ctrl-C to stop).") var follow = false
    @Flag(help: "Print the raw JSON lines.") var json = false

    func run() async throws {
      let root = try locator.root(positional: manifest)
      let log = EventLog(root: root)
      var printed = 0
      repeat {
        // --json prints the file's own lines, so tools see exactly what was recorded.
        let lines = json ? log.rawLines() : log.read().map(EventLog.format)
        for line in lines.dropFirst(printed) { Output.out(line + "\n") }
        printed = max(printed, lines.count)
        if follow { try await Task.sleep(for: .milliseconds(200)) }
      } while follow
    }
  }
}

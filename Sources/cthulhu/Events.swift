import ArgumentParser
import Foundation
import History
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
    @Flag(
      help:
        "Write the events (and the client operations of history.jsonl) on one time axis, a row per instance, as a self-contained HTML page.")
    var html = false
    @Option(name: .shortAndLong, help: "With --html: the page's file (default: events.html in the current folder).") var output: String?

    func validate() throws {
      if html && (follow || json) { throw ValidationError("Please give --html alone: it writes one page of the events so far.") }
      if output != nil && !html { throw ValidationError("--output is for --html.") }
    }

    func run() async throws {
      let root = try locator.root(positional: manifest)
      let log = EventLog(root: root)
      if html {
        let events = log.read()
        guard !events.isEmpty else { throw CLIError("\(root) has no events yet (\(root)/events.jsonl)") }
        let paths = FixturePaths(root: root)
        var history: [HistoryEvent] = []
        if FileManager.default.fileExists(atPath: paths.history) {
          do { history = try HistoryParser.parse(contentsOf: paths.history) } catch {
            Output.error("note: \(error); the page shows the events without the client operations")
          }
        }
        let name = (try? FixtureState.load(root: root))??.fixture ?? (root as NSString).lastPathComponent
        let file = output ?? "events.html"
        try EventsPage(title: "fixture \(name)", events: events, history: history).html().write(toFile: file, atomically: true, encoding: .utf8)
        Output.out("Wrote \(file): \(events.count) events\(history.isEmpty ? "" : " and \(history.count) history lines") on one time axis.\n")
        return
      }
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

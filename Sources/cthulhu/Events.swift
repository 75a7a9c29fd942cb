import ArgumentParser
import Foundation
import Orchestrator

extension Cthulhu {
  struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Print the fixture's event log (every apply step and control action) as a timeline.")

    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Keep printing events as they are appended (Ctrl-C to stop).") var follow = false
    @Flag(help: "Print the raw JSON lines.") var json = false

    func run() async throws {
      let root = try locator.root()
      let log = EventLog(root: root)
      var printed = 0
      repeat {
        let events = log.read()
        for e in events.dropFirst(printed) {
          if json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            enc.dateEncodingStrategy = .iso8601
            Output.out(String(decoding: try enc.encode(e), as: UTF8.self) + "\n")
          } else {
            Output.out(EventLog.format(e) + "\n")
          }
        }
        printed = max(printed, events.count)
        if follow { try await Task.sleep(for: .milliseconds(200)) }
      } while follow
    }
  }
}

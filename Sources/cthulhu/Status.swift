import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Status: AsyncParsableCommand {
    /// A container id's first 12 characters; a swarm id keeps its node (`cthulhu-swarm-n2:3f2a…`).
    static func shortID(_ id: String) -> String {
      guard let colon = id.firstIndex(of: ":") else { return String(id.prefix(12)) }
      return String(id[...colon]) + id[id.index(after: colon)...].prefix(12)
    }

    static let configuration = CommandConfiguration(
      commandName: "status", abstract: "Show each instance: group, address, state, health, user, ports.")

    @Argument(help: "The manifest (default: ./cthulhu.yaml unless --fixture is given).")
    var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        let state = try FixtureState.require(root: root)
        let rows = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0, executable: .current).status(root: root) }
        if json {
          let e = JSONEncoder()
          e.outputFormatting = [.prettyPrinted, .sortedKeys]
          Output.out(String(decoding: try e.encode(rows), as: UTF8.self) + "\n")
          return
        }
        var table = [["NAME", "GROUP", "IP", "STATE", "HEALTH", "USER", "PORTS", "FAULTS", state.driver == .process ? "ID" : "CONTAINER"]]
        for r in rows {
          table.append([
            r.name, r.group, r.ip.description, r.state, r.health ?? "-", r.user ?? "-",
            r.ports.compactMap { p in p.host.map { "\($0)->\(p.container)/\(p.proto)" } }.joined(separator: ",").ifEmpty("-"),
            r.faults.joined(separator: ",").ifEmpty("-"),
            Self.shortID(r.containerID ?? "-"),
          ])
        }
        Output.table(table)
        if let e = state.expiresAt { Output.out("Expires at \(TimeText.wall(e)) (apply --ttl), unless applied again.\n") }
        if let n = try? FixtureController.nemesisStatus(root: root) {
          if n.running {
            Output.out(
              "Nemesis running (pid \(n.record.pid!))" + (n.record.next.map { "; next: \($0.label) \($0.summary) at \(TimeText.wall($0.at))" } ?? "")
                + ".\n")
          } else if n.died, !n.record.active.isEmpty || !n.faults.isEmpty {
            Output.out("Nemesis killed before it healed what it had in force: `cthulhu nemesis status` lists it, `cthulhu nemesis stop` heals it.\n")
          }
        }
      }
    }
  }
}

extension String {
  func ifEmpty(_ other: String) -> String { isEmpty ? other : self }
}

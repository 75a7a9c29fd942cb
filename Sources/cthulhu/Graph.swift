import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// The picture formats of `graph` and `plan --graph`.
enum GraphFormat: String, ExpressibleByArgument, CaseIterable {
  case mermaid, dot, svg

  /// The topology written in this format; svg through Graphviz's `dot`, found on PATH.
  func render(_ t: Topology) throws -> String {
    switch self {
    case .mermaid: return TopologyRenderer.mermaid(t)
    case .dot: return TopologyRenderer.dot(t)
    case .svg:
      let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
      guard let dot = path.split(separator: ":").map({ "\($0)/dot" }).first(where: FileManager.default.isExecutableFile(atPath:)) else {
        throw CLIError("--format svg needs Graphviz's dot on PATH (Debian: apt install graphviz); --format dot or mermaid needs nothing")
      }
      let p = Process()
      p.executableURL = URL(fileURLWithPath: dot)
      p.arguments = ["-Tsvg"]
      let input = Pipe()
      let output = Pipe()
      let errors = Pipe()
      p.standardInput = input
      p.standardOutput = output
      p.standardError = errors
      try p.run()
      // dot reads all its input before it writes: feed it, then read.
      let text = Data(TopologyRenderer.dot(t).utf8)
      let writer = Thread {
        input.fileHandleForWriting.write(text)
        try? input.fileHandleForWriting.close()
      }
      writer.start()
      let svg = output.fileHandleForReading.readDataToEndOfFile()
      p.waitUntilExit()
      guard p.terminationStatus == 0 else {
        throw CLIError(
          "\(dot) -Tsvg failed (exit \(p.terminationStatus)): \(String(decoding: (try? errors.fileHandleForReading.readToEnd()) ?? Data(), as: UTF8.self))"
        )
      }
      return String(decoding: svg, as: UTF8.self)
    }
  }
}

extension Cthulhu {
  struct Graph: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "graph",
      abstract: "Draw the topology: groups, instances, the network, depends_on, and the faults in force.",
      discussion: """
        For an applied fixture, what runs: each instance's address (and node), the ones \
        stopped or paused, and the faults in force (a cut link, an isolated instance, \
        loss, rate and delay on its link). For a manifest not applied (or with --planned), \
        the topology as planned, with no engine. mermaid renders in GitHub's markdown; \
        dot is Graphviz's input; svg needs Graphviz's dot.
        """)

    @OptionGroup var input: ManifestArgument
    @Option(help: "mermaid, dot or svg.") var format: GraphFormat = .mermaid
    @Flag(help: "Draw the manifest's topology as planned, even where it is applied.") var planned = false
    @Option(name: .shortAndLong, help: "Write the picture to FILE instead of standard output.") var output: String?

    func run() async throws {
      let target = try input.locator.target(positional: input.manifest)
      let state = planned ? nil : try FixtureState.load(root: target.root)
      let topology: Topology
      if let state {
        let manifest = try? ManifestArgument.load(target)
        let live = try await failing {
          try await Input.withDriver(state.driver) { driver in
            try await driver.containers(fixture: state.fixture).filter { $0.labels[Labels.root] == state.root }
          }
        }
        var states: [String: String] = [:]
        for c in live { if let n = c.labels[Labels.instance] { states[n] = c.state.rawValue } }
        let faults = try FaultBook.load(root: state.root).faults
        topology = Topology.running(state: state, manifest: manifest, live: states, faults: faults)
      } else {
        topology = try Topology.planned(try ManifestArgument.load(target))
      }
      let picture = try format.render(topology)
      if let output {
        try picture.write(toFile: output, atomically: true, encoding: .utf8)
      } else {
        Output.out(picture)
      }
    }
  }
}

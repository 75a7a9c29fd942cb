import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Partition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "partition",
      abstract: "Cut the network between sets of instances (both ways); the rest are untouched.",
      discussion: """
        Each argument is one set (names, globs, groups, comma lists): `partition i001 i002,i003`.
        Or a shape over the instances given (all by default), as Jepsen's nemeses make them:
          --halves            the first half against the rest
          --majority          a minority of ⌊(n-1)/2⌋ against a strict majority
          --majorities-ring   each instance sees a majority, no two the same one
          --bridge            two halves, and one instance between them that sees both
        --random shuffles the instances first (alone: random halves); --seed repeats a shuffle.
        Packets are dropped on arrival inside each instance's network namespace, so
        senders see a silent network, as in a real partition.
        """)

    @OptionGroup var options: FaultOptions
    @Flag(help: "First half against the rest.") var halves = false
    @Flag(help: "A minority against a strict majority.") var majority = false
    @Flag(name: .customLong("majorities-ring"), help: "Every instance sees a different majority.") var majoritiesRing = false
    @Flag(help: "Two halves joined through one instance.") var bridge = false
    @Flag(help: "Shuffle the instances before shaping (alone: random halves).") var random = false
    @Option(help: "Seed for --random, to repeat a shuffle.") var seed: UInt64?
    @Argument(help: "Sets of instances (with a shape: the instances to shape; default all).") var sets: [String] = []

    func validate() throws {
      let shapes = [halves, majority, majoritiesRing, bridge].filter { $0 }.count
      if shapes > 1 { throw ValidationError("Please pick one shape of --halves, --majority, --majorities-ring, --bridge.") }
      if shapes == 0 && !random && sets.count < 2 {
        throw ValidationError("Please give at least two sets (e.g. `partition i001 i002,i003`) or a shape such as --halves.")
      }
      if seed != nil && !random { throw ValidationError("--seed only makes sense with --random.") }
    }

    func run() async throws {
      let shape: PartitionShape? =
        halves ? .halves : majority ? .majority : majoritiesRing ? .majoritiesRing : bridge ? .bridge : random ? .halves : nil
      let (random, seed) = (self.random, self.seed)
      try await options.inject(self.sets, empty: []) { state, sets in
        guard let shape else { return .partition(sets: try sets.map { try Targets.resolve([$0], in: state) }) }
        var names = try Targets.resolve(sets.isEmpty ? ["all"] : sets, in: state)
        if random {
          var g = SeededGenerator(seed: seed ?? UInt64.random(in: 0...UInt64.max))
          names.shuffle(using: &g)
        }
        return .shaped(shape, names: names)
      }
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu.DiskCommand {
  /// `disk corrupt TARGETS --path REGEX (--bitflip N | --truncate BYTES | --zero OFFSET:LENGTH)`.
  struct Corrupt: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "corrupt",
      abstract: "Corrupt files at rest on the mounts with faults of stopped instances: flip bits, cut their end, or zero a range.",
      usage: "cthulhu disk corrupt TARGETS… --path REGEX (--bitflip N | --truncate BYTES | --zero OFFSET:LENGTH) [--seed N] [--mount NAME]",
      discussion: """
        Every regular file whose path inside the mount the regular expression finds is changed: --bitflip flips N
        distinct bits of each (drawn from the seed), --truncate cuts its last BYTES, --zero writes zeros over
        LENGTH bytes from OFFSET (within its size). Sizes take k, m, g. The instances must be stopped or killed
        (`cthulhu stop`, `kill --lose-unsynced`); `start` brings them back over the corrupted files. It prints
        each change, and so does events.jsonl. No heal: the files stay as they are.
        """)
    @OptionGroup var locator: FixtureLocator
    @Option(help: ArgumentHelp("The files: a regular expression over the path inside the mount (^/wal/).", valueName: "regex")) var path: String
    @Option(help: ArgumentHelp("Flip N distinct bits of each file.", valueName: "N")) var bitflip: Int?
    @Option(help: ArgumentHelp("Cut the last BYTES of each file (4k).", valueName: "bytes"), transform: Self.size) var truncate: Int64?
    @Option(help: ArgumentHelp("Zero LENGTH bytes from OFFSET in each file (0:4k).", valueName: "offset:length"), transform: Self.range)
    var zero: Range?
    @Option(help: "The seed of the bits flipped (default: drawn, and printed).") var seed: UInt64?
    @Option(help: "Only this mount (its name in the manifest).") var mount: String?
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = []

    struct Range: Sendable {
      var offset: Int64
      var length: Int64
    }

    static func size(_ text: String) throws -> Int64 {
      guard let n = Units.size(text) else { throw Parse.Invalid(description: "expected a size in bytes such as 100, 4k or 1m") }
      return n
    }

    static func range(_ text: String) throws -> Range {
      let parts = text.split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count == 2, let offset = Units.size(String(parts[0])), let length = Units.size(String(parts[1])) else {
        throw Parse.Invalid(description: "expected OFFSET:LENGTH in bytes, such as 0:4k or 512:100")
      }
      return Range(offset: offset, length: length)
    }

    func validate() throws {
      if [bitflip != nil, truncate != nil, zero != nil].filter({ $0 }).count != 1 {
        throw ValidationError("Please give one of --bitflip N, --truncate BYTES or --zero OFFSET:LENGTH.")
      }
      if seed != nil && bitflip == nil { throw ValidationError("--seed goes with --bitflip (the other changes draw nothing).") }
    }

    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets, empty: [])
      guard !targets.isEmpty else { throw ValidationError("Please name the stopped instances whose files to corrupt (names, groups, all).") }
      let root = target.root
      let kind: DiskCorruption.Kind =
        if let bitflip { .bitflip(count: bitflip) } else if let truncate { .truncate(bytes: truncate) } else {
          .zero(offset: zero!.offset, length: zero!.length)
        }
      let drawn = seed == nil && bitflip != nil
      let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
      let (path, mount) = (self.path, self.mount)
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = try Targets.resolve(targets, in: state)
        let reports = try await Input.withDriver(state.driver) {
          try await FixtureController(driver: $0, executable: .current).corruptDisks(
            root: root, names: names, mount: mount, path: path, kind, seed: seed)
        }
        Output.out("disk corrupt" + (bitflip != nil ? " --seed \(seed)" + (drawn ? " (drawn)" : "") : "") + ": \(reports.count) layer(s)\n")
        for r in reports { Output.out("  \(r.summary)\n") }
      }
    }
  }
}

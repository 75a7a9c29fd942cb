import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu.DiskCommand {
  /// `disk delay D TARGETS…`: a delay rule in the instances' disk layers.
  struct DelayRule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "delay",
      abstract: "Slow the file operations of instances on their mounts with faults.",
      usage: "cthulhu disk delay DURATION TARGETS… [--ops read,write,fsync,…] [--path REGEX] [--percent P] [--mount NAME] [--for DURATION]",
      discussion: """
        Each operation the rule matches waits DURATION, then is carried out. The layer serves operations on one
        queue, as a disk does: the operations behind a delayed one wait too. `heal` or `--for` lifts it.
        """)
    @OptionGroup var options: FaultOptions
    @OptionGroup var rule: DiskRuleOptions
    @Argument(help: ArgumentHelp("The delay: 50ms, 1s.", valueName: "duration"), transform: Parse.duration) var delay: Duration
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = []

    func run() async throws { try await rule.inject(.delay(delay), targets: targets, options: options) }
  }

  /// `disk error ERRNO TARGETS…`: an error rule in the instances' disk layers.
  struct ErrorRule: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "error",
      abstract: "Fail the file operations of instances on their mounts with faults with an error (EIO, ENOSPC, EROFS, …).",
      usage: "cthulhu disk error ERRNO TARGETS… [--ops read,write,fsync,…] [--path REGEX] [--percent P] [--mount NAME] [--for DURATION]",
      discussion: """
        A failed operation returns the error without touching the files: a full disk is `disk error ENOSPC --ops write`,
        a failing device `disk error EIO --ops read,write,fsync`. `heal` or `--for` lifts it.
        """)
    @OptionGroup var options: FaultOptions
    @OptionGroup var rule: DiskRuleOptions
    @Argument(help: ArgumentHelp("The error: EIO, ENOSPC, EROFS, EDQUOT, EACCES, ….", valueName: "errno")) var errno: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String] = []

    func run() async throws {
      guard let e = DiskErrno(errno.uppercased()) else {
        throw ValidationError("Please give an error the disk layer returns, such as EIO, ENOSPC, EROFS, EDQUOT or EACCES (got '\(errno)').")
      }
      try await rule.inject(.error(e), targets: targets, options: options)
    }
  }
}

/// What `disk delay` and `disk error` take beside the delay or error: which
/// operations, paths, what share, and on which mount.
struct DiskRuleOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "Only these operations, a comma list: read, write, fsync, fsyncdir, create, open, rename, unlink, … (default: every one).", valueName: "ops"))
  var ops: String?
  @Option(help: ArgumentHelp("Only paths inside the mount this regular expression finds (^/wal/; default: every path).", valueName: "regex"))
  var path: String?
  @Option(
    help: ArgumentHelp("Of the operations it matches, the share it hits (30 or 30%; default 100).", valueName: "percent"), transform: Parse.percent)
  var percent: Double = 100
  @Option(help: "The seed of the draws that pick that share (default: drawn, and shown).") var seed: UInt64?
  @Option(help: "Only this mount (its name in the manifest; default: every mount with faults of the instances).") var mount: String?

  /// The rule, checked as the layer would check it.
  func rule(_ action: DiskFaultRule.Action) throws -> DiskFaultRule {
    var operations: [DiskOperation]?
    if let ops {
      operations = try ops.split(separator: ",").map { name in
        guard let op = DiskOperation(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
          throw ValidationError(
            "--ops: '\(name)' is not an operation (\(DiskOperation.names)).")
        }
        return op
      }
    }
    do {
      return try DiskFaultRule(action, ops: operations, path: path, percent: percent, seed: seed ?? UInt64.random(in: 0...UInt64(UInt32.max)))
    } catch {
      throw ValidationError("--\(error.field): \(error.problem).")
    }
  }

  func inject(_ action: DiskFaultRule.Action, targets: [String], options: FaultOptions) async throws {
    let rule = try rule(action)
    let mount = self.mount
    if targets.allSatisfy(Input.looksLikeManifest) {
      throw ValidationError("Please name the instances whose disk to break (names, groups, all).")
    }
    try await options.inject(targets, empty: []) { .disk(rule, mount: mount, try Targets.resolve($1, in: $0)) }
  }
}

import Foundation
import Orchestrator

extension CthulhuExecutable {
  /// This cthulhu, resolved (argv[0] may be a bare name found on PATH): the
  /// binary every command gives the library for its control shims and
  /// detached helpers.
  static var current: CthulhuExecutable {
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return .init(path: exe) }
    if let exe = Bundle.main.executablePath { return .init(path: exe) }
    return .init(path: CommandLine.arguments.first ?? "cthulhu")
  }
}

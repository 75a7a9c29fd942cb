import Foundation
import Manifest

/// The `cthulhu` program that does the work outliving a library call: the
/// fixture's `control` shims run it, and the detached helpers are started
/// from it (`cthulhu _reap` for `--for` faults and time to live,
/// `cthulhu _delay` packet delayers on kernels without netem,
/// `cthulhu _nemesis` daemons; see ``HelperProcess``).
///
/// The library never guesses it: the CLI gives its own path, a Swift
/// program gives the installed `cthulhu` (``locate(searchPath:)``) or a
/// path of its own choosing. A ``FixtureController`` made without one
/// refuses, before it changes anything, whatever needs it (see
/// ``FixtureWork/requireExecutable(for:)``), rather than running the
/// calling program in its place.
public struct CthulhuExecutable: Sendable, Hashable, CustomStringConvertible {
  /// Absolute path of the binary.
  public let path: String

  /// `path` as given, made absolute from the current folder if it is
  /// relative (the shims and helpers run from other folders). Not checked
  /// here: a binary installed later is fine; a missing one fails where it
  /// is started, naming its path.
  public init(path: String) {
    self.path = LocalPath.keepingLast(path)
  }

  /// The first executable `cthulhu` in the folders of `searchPath` (by
  /// default the `PATH` of this process), the way a shell finds it.
  public static func locate(searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) throws -> CthulhuExecutable {
    let folders = (searchPath ?? "").split(separator: ":", omittingEmptySubsequences: true).map(String.init)
    for folder in folders {
      let candidate = folder + "/cthulhu"
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue,
        access(candidate, X_OK) == 0
      {
        return CthulhuExecutable(path: candidate)
      }
    }
    throw OrchestratorError(
      .noExecutable,
      "no executable `cthulhu` in PATH (\(folders.isEmpty ? "empty" : folders.joined(separator: ":"))); install cthulhu or give its path with CthulhuExecutable(path:)"
    )
  }

  public var description: String { path }
}

import Foundation

/// Checks before a run that its client command can start, so a typo is one
/// clear error rather than every operation `info`.
enum ClientCommand {
  static func check(_ argv: [String], directory: String) throws {
    guard let program = argv.first, !program.isEmpty else { throw RunError.manifest("the client command is empty") }
    let fm = FileManager.default
    if program.contains("/") {
      let path = program.hasPrefix("/") ? program : directory + "/" + program
      guard fm.isExecutableFile(atPath: path) else {
        throw RunError.client("the client \(program) is not an executable file (looked for \(path); relative paths start at the manifest's folder)")
      }
      return
    }
    let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    guard dirs.contains(where: { fm.isExecutableFile(atPath: "\($0)/\(program)") }) else {
      throw RunError.client("the client \(program) is not on PATH")
    }
  }
}

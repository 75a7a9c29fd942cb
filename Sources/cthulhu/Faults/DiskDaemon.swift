import ArgumentParser
import DiskLayer
import Foundation
import Orchestrator

extension Cthulhu {
  /// The detached process behind an instance's disk faults: mounts the
  /// file-system layer (``DiskLayer``) at `--mount`, keeps the files in
  /// `--backing`, and answers `lose-unsynced` on `<state>/control.sock`.
  /// Writes its PID to `<state>/ready` once the mount answers; unmounts and
  /// exits on SIGTERM, SIGINT or SIGHUP, or when the mount is taken away.
  struct DiskDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_disk", shouldDisplay: false)
    @Option(help: "Where the instance sees its files (an empty folder).") var mount: String
    @Option(help: "Where the files are kept.") var backing: String
    @Option(help: "The layer's own folder, on the backing folder's file system.") var state: String
    @Option(help: "The fixture whose layer this is (for `destroy` to find it).") var fixture: String?
    @Option(help: "The instance it serves.") var instance: String?

    func run() throws {
      #if canImport(CFuse)
      let folders = DiskLayer.Folders(mount: absolute(mount), backing: absolute(backing), state: absolute(state))
      do {
        let layer = try DiskLayer(folders)
        try DiskLayerControl.serve(layer)
        try layer.serve {
          try Data("\(getpid())\n".utf8).write(to: URL(fileURLWithPath: folders.ready), options: .atomic)
        }
      } catch {
        FileHandle.standardError.write(Data("cthulhu _disk \(folders.mount): \(error)\n".utf8))
        try? FileManager.default.removeItem(atPath: folders.ready)
        throw ExitCode(1)
      }
      try? FileManager.default.removeItem(atPath: folders.ready)
      try? FileManager.default.removeItem(atPath: folders.socket)
      #else
      FileHandle.standardError.write(Data("cthulhu _disk: this build has no libfuse (Linux only)\n".utf8))
      throw ExitCode(1)
      #endif
    }

    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
    }
  }
}

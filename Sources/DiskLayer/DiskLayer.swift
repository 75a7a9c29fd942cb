#if canImport(CFuse)
internal import CFuse
import Foundation
import Orchestrator
import Glibc

/// The file-system layer behind disk faults: a FUSE file system (libfuse 3,
/// high-level API, one thread) at a mount point whose files live in a
/// backing folder. Every operation is passed to the backing folder at once;
/// the ``DurabilityLedger`` records what was fsynced, so that
/// ``loseUnsynced(torn:seed:)`` can roll the backing folder back to exactly
/// that (docs/disk-faults.md). Requests come through ``DiskLayerControl``.
public final class DiskLayer: @unchecked Sendable {
  /// The folders one layer works in.
  public struct Folders: Sendable {
    /// Where the instance sees its files.
    public var mount: String
    /// Where the files are kept.
    public var backing: String
    /// The layer's own: `control.sock`, `ready`, `graveyard/`, `staging/`.
    /// On the backing folder's file system (inodes are moved between them).
    public var state: String

    public init(mount: String, backing: String, state: String) {
      self.mount = mount
      self.backing = backing
      self.state = state
    }

    public var socket: String { state + "/control.sock" }
    public var ready: String { state + "/ready" }
    var graveyard: String { state + "/graveyard" }
    var staging: String { state + "/staging" }
    /// Written before `graveyard/` and `staging/` are first made: what a
    /// later layer may empty is only what a layer made.
    var mark: String { state + "/.cthulhu-disk-layer" }
  }

  public let folders: Folders
  let ledger: DurabilityLedger
  /// The delay and error rules in force (their own lock: see ``DiskFaults``).
  let faults = DiskFaults()
  private let lock = NSLock()

  public init(_ folders: Folders) throws {
    self.folders = folders
    for (what, path) in [("backing folder", folders.backing), ("mount point", folders.mount), ("state folder", folders.state)] {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
        throw OrchestratorError(.io, "the disk layer's \(what) \(path) is not a folder")
      }
    }
    // A folder inside the mount would be reached through the layer itself
    // (its own calls would wait on it), and the mount inside the backing
    // folder would be walked by lose-unsynced.
    for (what, path) in [("backing folder", folders.backing), ("state folder", folders.state)] {
      if Self.isWithin(path, folders.mount) || Self.isWithin(folders.mount, path) {
        throw OrchestratorError(.io, "the disk layer's \(what) \(path) and its mount point \(folders.mount) must not be inside one another")
      }
    }
    // Never hide what is there.
    if let inside = try? FileManager.default.contentsOfDirectory(atPath: folders.mount), !inside.isEmpty {
      throw OrchestratorError(.io, "the disk layer's mount point \(folders.mount) is not empty (\(inside.count) entries): it would hide them")
    }
    // What a layer that ended left there means nothing now; folders of
    // those names that no layer made (no mark) are not ours to remove.
    let ours = FileManager.default.fileExists(atPath: folders.mark)
    for folder in [folders.graveyard, folders.staging] where FileManager.default.fileExists(atPath: folder) && !ours {
      throw OrchestratorError(
        .foreign, "the disk layer's state folder \(folders.state) holds \(folder), which no disk layer made: give an empty state folder")
    }
    if !ours, !FileManager.default.createFile(atPath: folders.mark, contents: Data("cthulhu _disk\n".utf8)) {
      throw OrchestratorError(.io, "cannot write \(folders.mark)")
    }
    for folder in [folders.graveyard, folders.staging] {
      try? FileManager.default.removeItem(atPath: folder)
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    guard let b = DurabilityLedger.status(folders.backing), let s = DurabilityLedger.status(folders.state), b.st_dev == s.st_dev else {
      throw OrchestratorError(
        .io,
        "the disk layer's state folder \(folders.state) must be on the backing folder \(folders.backing)'s file system (inodes move between them)")
    }
    ledger = DurabilityLedger(backing: folders.backing, graveyard: folders.graveyard, staging: folders.staging)
  }

  /// `path` is `folder` or inside it (both absolute and normalized).
  static func isWithin(_ path: String, _ folder: String) -> Bool {
    path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
  }

  /// Runs `body` with the ledger to itself (FUSE operations and control requests alike).
  func locked<T>(_ body: (DurabilityLedger) -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body(ledger)
  }

  /// Rolls the backing folder back to what was made durable (see ``DurabilityLedger``).
  public func loseUnsynced(torn: Bool, seed: UInt64) -> LossReport {
    locked { $0.loseUnsynced(torn: torn, seed: seed) }
  }

  /// Makes everything as it stands durable (`sync`); returns what was not.
  public func syncAll() -> DiskLayerStatus {
    locked { $0.syncAll() }
  }

  /// What the ledger holds now.
  public func status() -> DiskLayerStatus {
    locked { ledger in
      DiskLayerStatus(
        unsyncedFiles: ledger.files.count, savedBytes: ledger.files.values.reduce(0) { $0 + $1.saved.byteCount },
        changedDirectories: ledger.directories.count, rules: faults.status())
    }
  }

  /// The path inside the mount of the open backing file `fd` (by its name
  /// now), or nil if it has none there (removed: kept in the graveyard, or gone).
  func name(ofOpen fd: Int32) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    let path = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if path == folders.backing { return "/" }
    guard path.hasPrefix(folders.backing + "/"), !path.hasSuffix(" (deleted)") else { return nil }
    return String(path.dropFirst(folders.backing.count))
  }

  /// Mounts the layer and serves it until it is unmounted or the process
  /// gets SIGTERM, SIGINT or SIGHUP; unmounts on the way out.
  /// `mounted` runs once the mount answers.
  public func serve(mounted: () throws -> Void) throws {
    umask(0)
    let arguments = ["cthulhu-disk", "-o", "allow_other,default_permissions,fsname=cthulhu-disk,subtype=cthulhu"]
    var cArguments = arguments.map { strdup($0) }
    defer { cArguments.forEach { free($0) } }
    var operations = DiskLayer.operations()
    let fuse: OpaquePointer? = cArguments.withUnsafeMutableBufferPointer { argv in
      var args = fuse_args(argc: Int32(argv.count), argv: argv.baseAddress, allocated: 0)
      defer { fuse_opt_free_args(&args) }
      return cthulhu_fuse_new(&args, &operations, Unmanaged.passUnretained(self).toOpaque())
    }
    guard let fuse else { throw OrchestratorError(.io, "libfuse could not set up the disk layer (fuse_new)") }
    defer { fuse_destroy(fuse) }
    guard fuse_mount(fuse, folders.mount) == 0 else {
      throw OrchestratorError(.io, "could not mount the disk layer at \(folders.mount) (is /dev/fuse there, and are we root?)")
    }
    defer { fuse_unmount(fuse) }
    DiskLayerSignals.install(session: fuse_get_session(fuse))
    defer { DiskLayerSignals.remove() }
    try mounted()
    withExtendedLifetime(self) { _ = fuse_loop(fuse) }
  }
}
#endif

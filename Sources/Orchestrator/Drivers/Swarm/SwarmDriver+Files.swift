import Foundation
import Manifest

/// An instance's mounts copied into its container through the engine, for
/// nodes that share no filesystem with this machine (docs/DESIGN.md,
/// "Swarm", **Files**). Every mount is a folder of the fixture
/// (`<ip>/bindmounts/<name>`): on swarm none is bind-mounted; the folder,
/// with what it holds, its modes and owners, is unpacked at the mount's
/// path before the container first starts, and the rendered files again
/// when `apply` changes them.
enum MountCopy {
  /// What the instance's log file is in its container: a link to the
  /// standard output of its first process, so what the instance writes
  /// there reaches the engine's log, which cthulhu pulls into the fixture
  /// folder (``SwarmDriver/pullLog(id:)``).
  static let logLink = "/proc/1/fd/1"

  /// Everything of `binds` as one archive to unpack at `/`: each mount
  /// folder as its path in the container (a missing parent is made by the
  /// engine, 0755, as for a bind mount), without the `var` mount's
  /// `<instance>.log`, which is ``logLink`` there instead.
  static func archive(binds: [Bind], instance: String?) throws -> [UInt8] {
    var entries: [Tar.Entry] = []
    for b in binds {
      let base = try inContainer(b.container)
      let folder = try Folder(path: b.host)
      let log = isLogMount(b) ? instance.map { "\($0).log" } : nil
      entries += try folder.tarEntries(at: base, skipping: { $0 == log })
      if let log {
        let owner = try folder.status(of: log) ?? folder.status()
        entries.append(Folder.entry(base + "/" + log, owner, .link(logLink)))
        entries[entries.count - 1].mode = 0o777
      }
    }
    return try Tar.archive(entries: entries)
  }

  /// The rendered files `paths` (relative to `bindmounts`: `etc/config.json`)
  /// as one archive to unpack at `/`, each with the folders from its
  /// mount's folder down to it (their modes and owners as on this machine).
  /// A path in no mount is left out (it reaches no container on any driver).
  static func archive(binds: [Bind], files paths: [String]) throws -> [UInt8] {
    var entries: [Tar.Entry] = []
    var folders = Set<String>()
    for p in paths.sorted() {
      let parts = p.split(separator: "/").map(String.init)
      guard parts.count >= 2, let b = binds.first(where: { ($0.host as NSString).lastPathComponent == parts[0] }) else { continue }
      var folder = try Folder(path: b.host)
      var at = try inContainer(b.container)
      if folders.insert(at).inserted { entries.append(Folder.entry(at, try folder.status(), .folder)) }
      for part in parts.dropFirst().dropLast() {
        folder = try folder.folder(part, create: false)
        at += "/" + part
        if folders.insert(at).inserted { entries.append(Folder.entry(at, try folder.status(), .folder)) }
      }
      let (data, st) = try folder.read(parts.last!)
      entries.append(Folder.entry(at + "/" + parts.last!, st, .file(data)))
    }
    return try Tar.archive(entries: entries)
  }

  /// The mount whose folder holds the instance's log (`bindmounts/var`).
  static func isLogMount(_ b: Bind) -> Bool { b.host.hasSuffix("/bindmounts/var") }

  /// `/opt/app/etc` → `opt/app/etc`; a path that is not absolute, or
  /// climbs, names no place in a container.
  static func inContainer(_ path: String) throws -> String {
    let parts = path.split(separator: "/")
    guard path.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
      throw DriverError(.unsupported, "mount path \(path) is not an absolute path inside the container")
    }
    return parts.joined(separator: "/")
  }
}

extension SwarmDriver {
  /// The label that says where, below the fixture folder, the instance's
  /// log is (`<ip>/bindmounts/var/<instance>.log`): put on the container by
  /// ``create(_:)``, outside the spec, so a stopped container's log can be
  /// pulled from its labels alone.
  public static let logLabel = "io.cthulhu.log"

  /// `spec` as its node's engine creates it: no bind mount, and the log label.
  static func onNode(_ spec: ContainerSpec) -> ContainerSpec {
    var made = spec
    made.binds = []
    if let root = spec.labels[Labels.root], let name = spec.labels[Labels.instance],
      let log = spec.binds.first(where: MountCopy.isLogMount), log.host.hasPrefix(root + "/")
    {
      made.labels[logLabel] = String(log.host.dropFirst(root.count + 1)) + "/\(name).log"
    }
    return made
  }

  /// Rewrites the rendered files `files` in the container (nil: every
  /// mount whole, as ``create(_:)`` put them): what `apply` does before the
  /// restart, signal or nothing its `on_change` asks, and to a container it
  /// adopts.
  public func refreshFiles(id: String, spec: ContainerSpec, files: [String]?) async throws {
    let (n, cid) = try await locate(id)
    let tar =
      try files.map { try MountCopy.archive(binds: spec.binds, files: $0) }
      ?? MountCopy.archive(binds: spec.binds, instance: spec.labels[Labels.instance])
    try await n.driver.putArchive(id: cid, path: "/", tar: tar, what: "the files of \(spec.name)")
  }
}

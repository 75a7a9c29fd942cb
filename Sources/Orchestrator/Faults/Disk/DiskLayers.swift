import Foundation
import Manifest

/// The disk layers of a fixture: one `cthulhu _disk` daemon per instance and
/// mount that says `faults: true`, started by apply before the instance
/// starts, outliving the command (a ``HelperProcess``), ended by `destroy`
/// and by the removal of its instance. The instance sees the layer's mount
/// point (`<ip>/disk/<mount>`); the files are kept in `<ip>/bindmounts/<mount>`;
/// the layer's own folder is `.cthulhu/disk/<instance>.<mount>`.
public struct DiskLayers: Sendable {
  public let root: String

  public init(root: String) { self.root = root }

  /// One layer's folders and who it serves.
  public struct Layer: Sendable, Hashable, Codable {
    public var instance: String
    /// The mount's name in the manifest (`data`).
    public var mount: String
    /// Where the instance sees its files.
    public var mountPoint: String
    /// Where they are kept.
    public var backing: String
    /// The layer's own folder (its control socket, ready file, records).
    public var state: String

    public var socket: String { state + "/control.sock" }
    public var ready: String { state + "/ready" }
    /// The record of the layer, written before its daemon starts, for a
    /// `destroy` that finds the layer without the manifest.
    var record: String { state + "/layer.json" }

    /// `seed` mixed with the layer's instance and mount: one seed given to
    /// several layers (a crash's tear, a rule's draws, a corruption's bits)
    /// draws differently in each, and the same in each every time.
    public func seed(_ seed: UInt64) -> UInt64 { seed ^ PacketDelayerProcess.seed(fault: mount, instance: instance) }
  }

  /// Where the layers' own folders are.
  public var folder: String { FixturePaths(root: root).stateFolder + "/disk" }

  public func layer(instance: String, ip: IPv4Address, mount: String) -> Layer {
    let paths = FixturePaths(root: root)
    return Layer(
      instance: instance, mount: mount, mountPoint: Self.mountPoint(paths, ip: ip, mount: mount),
      backing: paths.mountFolder(ip: ip, mount: mount), state: folder + "/\(instance).\(mount)")
  }

  /// `<root>/<ip>/disk/<mount>`: where an instance sees a mount with faults.
  public static func mountPoint(_ paths: FixturePaths, ip: IPv4Address, mount: String) -> String {
    paths.instanceFolder(ip: ip) + "/disk/" + mount
  }

  /// The layers recorded in this fixture (those whose daemon was started).
  /// A record is believed only when its folders are where this fixture
  /// puts them (`isOwn`): a record edited to name another folder is never
  /// mounted over, unmounted, rolled back or corrupted.
  public func recorded() -> [Layer] { recorded(folders: { _ in true }) }

  /// The layers recorded for one instance (only their records are read).
  public func recorded(instance: String) -> [Layer] { recorded(folders: { $0.hasPrefix(instance + ".") }) }

  private func recorded(folders wanted: (String) -> Bool) -> [Layer] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter(wanted)
    return names.sorted().compactMap { name in
      guard let data = FileManager.default.contents(atPath: folder + "/" + name + "/layer.json"),
        let layer = try? JSONDecoder().decode(Layer.self, from: data), isOwn(layer, folderName: name)
      else { return nil }
      return layer
    }
  }

  /// The layer's folders are those ``layer(instance:ip:mount:)`` makes for
  /// its instance and mount, in the state folder entry `folderName`.
  func isOwn(_ l: Layer, folderName: String) -> Bool {
    // (A mount's name follows a fixture name's rule: [a-z0-9][a-z0-9-]*.)
    guard InstanceName.ordinal(l.instance).map({ InstanceName.make($0) == l.instance }) ?? false, Names.isFixture(l.mount),
      folderName == "\(l.instance).\(l.mount)", l.state == folder + "/" + folderName
    else { return false }
    let prefix = root + "/"
    guard l.backing.hasPrefix(prefix), l.mountPoint.hasPrefix(prefix) else { return false }
    let folder = l.backing.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
    guard folder.count == 3, let ip = IPv4Address(String(folder[0])), folder[1] == "bindmounts", folder[2] == l.mount else { return false }
    return l.mountPoint == Self.mountPoint(FixturePaths(root: root), ip: ip, mount: l.mount)
  }

  /// The PID of the layer's daemon if it runs and its mount answers
  /// (`table`: the mount table, read once by a caller asking of many).
  public func running(_ layer: Layer, table: MountTable = .current()) -> Int32? {
    guard let pid = readyPID(layer), HelperProcess.isRunning(pid: pid, .disk, root: root, instance: layer.instance),
      table.hasDiskLayer(at: layer.mountPoint)
    else { return nil }
    return pid
  }

  func readyPID(_ layer: Layer) -> Int32? {
    FileManager.default.contents(atPath: layer.ready).flatMap {
      Int32(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
  }

  /// Starts the layer's daemon unless it runs: a mount its dead daemon left
  /// behind is taken away first. Returns once the mount answers.
  public func ensure(_ layer: Layer, executable: CthulhuExecutable, patience: Duration = .seconds(10)) async throws {
    if running(layer) != nil { return }
    await stop(layer)
    let fm = FileManager.default
    for path in [layer.mountPoint, layer.backing, layer.state] {
      try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    try AtomicFile.write(JSONEncoder().encode(layer), to: layer.record)
    try? fm.removeItem(atPath: layer.ready)
    let pid = try HelperProcess.spawn(
      executable, .disk,
      arguments: [
        "--fixture", root, "--instance", layer.instance, "--mount", layer.mountPoint, "--backing", layer.backing, "--state", layer.state,
      ], root: root)
    let deadline = ContinuousClock.now + patience
    while ContinuousClock.now < deadline {
      if readyPID(layer) == pid, MountTable.current().hasDiskLayer(at: layer.mountPoint) { return }
      guard HelperProcess.isAlive(pid) else { break }
      try await Task.sleep(for: .milliseconds(10))
    }
    kill(pid, SIGKILL)
    throw OrchestratorError(
      .io,
      "the disk layer of \(layer.instance)'s mount '\(layer.mount)' did not start (see \(HelperProcess.log(root: root)))")
  }

  /// Ends the layer's daemon (it unmounts on its way out); a mount left
  /// behind by a daemon that died is detached.
  public func stop(_ layer: Layer) async {
    if let pid = readyPID(layer) {
      await HelperProcess.stop(pid: pid, .disk, root: root, instance: layer.instance, patience: .seconds(5))
    }
    if MountTable.current().hasDiskLayer(at: layer.mountPoint) { _ = umount2(layer.mountPoint, Int32(MNT_DETACH)) }
  }

  /// Ends every layer of the fixture: those recorded, then any disk layer
  /// still mounted below the root (a record lost with a crash).
  public func stopAll() async {
    for layer in recorded() { await stop(layer) }
    for path in MountTable.current().diskLayers(under: root) { _ = umount2(path, Int32(MNT_DETACH)) }
  }

  /// The layers of `names` (on `mount` only, when given), each running;
  /// refuses, naming the instance, one with no mount with faults (or not
  /// that one) or whose layer does not run.
  public func serving(_ names: [String], mount: String? = nil, state: FixtureState) throws -> [Layer] {
    let layers = try recorded(names, mount: mount, state: state)
    for l in layers where running(l) == nil {
      throw OrchestratorError(.noContainer, "the disk layer of \(l.instance)'s mount '\(l.mount)' is not running (`cthulhu apply` starts it anew)")
    }
    return layers
  }

  /// The layers recorded for `names` (on `mount` only, when given), running
  /// or not; refuses, naming the instance, one with no mount with faults (or not that one).
  public func recorded(_ names: [String], mount: String? = nil, state: FixtureState) throws -> [Layer] {
    let recorded = recorded()
    var out: [Layer] = []
    for name in names {
      guard state.instance(named: name) != nil else {
        throw OrchestratorError(
          .noInstance, "fixture '\(state.fixture)' has no instance '\(name)' (it has \(state.instances.map(\.name).joined(separator: ", ")))")
      }
      let mine = recorded.filter { $0.instance == name && (mount == nil || $0.mount == mount) }
      guard !mine.isEmpty else {
        let which = mount.map { "no mount '\($0)' with faults: true" } ?? "no mount with faults: true"
        let has = recorded.filter { $0.instance == name }.map(\.mount)
        throw OrchestratorError(
          .badTargets, "instance \(name) has \(which)" + (has.isEmpty ? "" : " (it has \(has.joined(separator: ", ")))"))
      }
      out += mine
    }
    return out
  }

  /// Ends the layers of one instance (before its folder is removed) and
  /// forgets them.
  public func retire(instance: String) async {
    for layer in recorded(instance: instance) { await retire(layer) }
  }

  /// Ends a layer and removes its own folder (its records, the graveyard
  /// of its durable inodes): nothing will ask it to lose anything again.
  public func retire(_ layer: Layer) async {
    await stop(layer)
    guard !MountTable.current().hasDiskLayer(at: layer.mountPoint), let fd = SafeTree.openFolder(folder) else { return }
    defer { close(fd) }
    try? SafeTree.remove((layer.state as NSString).lastPathComponent, in: fd, displayPath: folder)
  }
}

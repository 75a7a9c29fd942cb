import Foundation
import Manifest

extension InstanceControl {
  /// What `disk corrupt` changed in one layer's backing folder.
  public struct DiskCorruptionReport: Sendable, Codable, Equatable {
    public var instance: String
    public var mount: String
    /// The seed the layer's draws used (the one given, mixed with the layer's).
    public var seed: UInt64
    /// What was done to each file.
    public var kind: DiskCorruption.Kind
    /// Every byte or range changed, by path and offset; empty when no file matched there.
    public var changes: [DiskCorruption.Change]

    /// `i001/data: /wal/1.log: 3 bit(s) flipped at 12,40,77`.
    public var summary: String {
      guard !changes.isEmpty else { return "\(instance)/\(mount): no file matched" }
      let files = Dictionary(grouping: changes, by: \.path)
      return "\(instance)/\(mount): "
        + files.keys.sorted().map { path in
          let c = files[path]!
          if c.allSatisfy({ $0.old != nil }) {
            let bits = c.reduce(0) { $0 + (($1.old ?? 0) ^ ($1.new ?? 0)).nonzeroBitCount }
            return "\(path): \(bits) bit(s) flipped in byte(s) at " + c.map { String($0.offset) }.joined(separator: ",")
          }
          let what = if case .truncate = kind { "cut" } else { "zeroed" }
          return "\(path): " + c.map { "\($0.length) byte(s) from \($0.offset)" }.joined(separator: ", ") + " \(what)"
        }.joined(separator: "; ")
    }
  }

  /// `disk corrupt`: changes the files at rest of the instances' mounts
  /// with faults (on `mount` only, when given), in each layer's backing
  /// folder, as ``DiskCorruption/corrupt(folder:path:_:seed:)`` does, the
  /// draws of each layer from `seed` mixed with the layer's. Refused,
  /// changing nothing, while an instance runs (or is paused), for an
  /// instance without such a mount, and when no file matches in any layer.
  public func corruptDisks(
    root: String, names: [String], mount: String? = nil, path: String, _ kind: DiskCorruption.Kind, seed: UInt64
  ) async throws -> [DiskCorruptionReport] {
    let state = try FixtureState.require(root: root)
    guard !names.isEmpty else { throw OrchestratorError(.badTargets, "corruption needs the instances whose files it changes") }
    let layers = try DiskLayers(root: root).recorded(names, mount: mount, state: state)
    let live = try await driver.containers(fixture: state.fixture).filter { $0.labels[Labels.root] == state.root }.byInstance()
    if let up = names.sorted().first(where: { n in live[n].map { $0.state == .running || $0.state == .paused || $0.state == .restarting } ?? false })
    {
      throw OrchestratorError(
        .unsupported, "\(up) is running: corruption is of files at rest; stop or kill it first (`cthulhu stop \(up)`). Nothing was changed.")
    }
    var reports: [DiskCorruptionReport] = []
    var firstRefusal: DiskCorruptionError?
    for l in layers {
      let seed = l.seed(seed)
      do {
        reports.append(
          DiskCorruptionReport(
            instance: l.instance, mount: l.mount, seed: seed, kind: kind,
            changes: try DiskCorruption.corrupt(folder: l.backing, path: path, kind, seed: seed)))
      } catch .noMatch(let folder, let pattern) {
        firstRefusal = firstRefusal ?? .noMatch(folder: folder, pattern: pattern)
        reports.append(DiskCorruptionReport(instance: l.instance, mount: l.mount, seed: seed, kind: kind, changes: []))
      } catch .nothingToChange(let folder, let pattern, let files) {
        firstRefusal = firstRefusal ?? .nothingToChange(folder: folder, pattern: pattern, files: files)
        reports.append(DiskCorruptionReport(instance: l.instance, mount: l.mount, seed: seed, kind: kind, changes: []))
      } catch .io(let path, let errno) {
        throw OrchestratorError(.io, "\(l.instance)/\(l.mount): \(DiskCorruptionError.io(path: path, errno: errno))")
      } catch {
        throw OrchestratorError(.unsupported, "\(error). Nothing was changed.")
      }
    }
    if let firstRefusal, reports.allSatisfy({ $0.changes.isEmpty }) {
      throw OrchestratorError(.unsupported, "\(firstRefusal). Nothing was changed.")
    }
    EventLog(root: root).append(
      Event(
        actor: "control[\(getpid())]", kind: .corrupt, action: "disk corrupt", targets: names,
        instances: Array(Set(reports.filter { !$0.changes.isEmpty }.map(\.instance))).sorted(),
        detail: reports.map(\.summary).joined(separator: " | ")))
    return reports
  }

  /// One layer as `disk status` shows it.
  public struct DiskLayerState: Sendable, Codable, Equatable {
    public var instance: String
    public var mount: String
    public var mountPoint: String
    public var backing: String
    public var running: Bool
    /// What its ledger holds and the rules in force with their counts; nil when it does not run.
    public var status: DiskLayerStatus?
    /// The fault (`f3`) each rule in force stands for, in the same order;
    /// nil when the rules differ from what the fault book says (a layer
    /// whose rules were set by hand on its socket).
    public var faults: [String]?
  }

  /// `disk status`: the layers of `names` (every recorded layer when nil),
  /// on `mount` only when given, running or not.
  public func diskStatus(root: String, names: [String]? = nil, mount: String? = nil) throws -> [DiskLayerState] {
    let state = try FixtureState.require(root: root)
    let layers = DiskLayers(root: root)
    let chosen =
      try names.map { try layers.recorded($0, mount: mount, state: state) } ?? layers.recorded().filter { mount == nil || $0.mount == mount }
    let book = try FaultBook.load(root: root)
    return chosen.map { l in
      let running = layers.running(l) != nil
      let status = running ? (try? DiskLayerClient.request(.status, socket: l.socket, timeout: .seconds(10)))?.status : nil
      let wanted = FaultInjector.diskFaults(book: book, layer: l)
      return DiskLayerState(
        instance: l.instance, mount: l.mount, mountPoint: l.mountPoint, backing: l.backing, running: running, status: status,
        faults: status.flatMap { $0.rules.map(\.rule) == wanted.map(\.rule) ? wanted.map(\.id) : nil })
    }
  }
}

extension InstanceControl {
  /// What one layer made durable at a `sync`.
  public struct DiskSync: Sendable, Codable, Equatable {
    public var instance: String
    public var mount: String
    /// What was not durable before.
    public var was: DiskLayerStatus
  }

  /// `disk sync`: everything on the instances' mounts with faults is made
  /// durable as it stands, as `sync(2)` or the kernel's own write-back
  /// would (a later crash loses only what is written after).
  public func syncDisks(root: String, names: [String], mount: String? = nil) async throws -> [DiskSync] {
    let state = try FixtureState.require(root: root)
    var out: [DiskSync] = []
    for l in try DiskLayers(root: root).serving(names, mount: mount, state: state) {
      let reply = try DiskLayerClient.request(.sync, socket: l.socket)
      out.append(
        DiskSync(instance: l.instance, mount: l.mount, was: reply.status ?? DiskLayerStatus(unsyncedFiles: 0, savedBytes: 0, changedDirectories: 0)))
    }
    EventLog(root: root).append(
      Event(
        actor: "control[\(getpid())]", kind: .lifecycle, action: "disk sync", targets: names, instances: Array(Set(out.map(\.instance))).sorted(),
        detail: out.map { "\($0.instance)/\($0.mount): \($0.was.unsyncedFiles) file(s), \($0.was.changedDirectories) folder(s)" }.joined(
          separator: "; ")))
    return out
  }
}

import Foundation
import Manifest

/// The embedded driver: every instance a detached host process group, for
/// machines without a container engine (`driver: process`).
///
/// Each instance is its spec's `command`, exec'd directly (no shell unless
/// the command is one) by `posix_spawn` as the leader of a session of its
/// own, so it outlives the cthulhu that started it. Its working directory is
/// its fixture folder `<root>/<ip>`, its mounts are real folders (the bind's
/// host path), its stdout and stderr are appended to
/// `bindmounts/var/<instance>.log` (`<root>/<ip>/<instance>.log` without a
/// `var` mount), and its environment is `PATH` and `HOME` of the cthulhu that
/// created it, then the spec's (the manifest's `env` and `CTHULHU_*`). It
/// runs as the spec's `user` (see ``UserSwitch``; HOME is then that user's).
///
/// The driver's memory is a registry of JSON files (see ``ProcessRegistry``).
/// A process is the instance's only while its PID still has the start time
/// recorded (field 22 of `/proc/<pid>/stat`), so a reused PID is never taken
/// for it, or signalled.
///
/// Network modes (the `io.cthulhu.network-mode` label of the fixture's
/// network, set from the manifest's `network.mode`):
/// - `loopback` (no root): one shared network namespace; each instance is
///   told its own 127.x.y.z (`CTHULHU_IP`) to listen on. No network faults.
/// - `namespaces` (root): a bridge per fixture and a named network namespace
///   per instance (see ``Namespaces``); the process starts inside it through
///   `nsenter --net=`, and network faults enter the same namespace.
public final class ProcessDriver: Driver {
  let registry: ProcessRegistry
  /// What every instance's environment starts with.
  let baseEnvironment: [String]
  /// Who cthulhu is and the host's users, for switching an instance to its user.
  let users: any HostUsers

  /// A driver whose registry is found from `environment` (see ``ProcessRegistry``).
  public init(environment: [String: String] = ProcessInfo.processInfo.environment, users: any HostUsers = SystemUsers()) {
    self.users = users
    registry = ProcessRegistry(folder: ProcessRegistry.folder(environment: environment))
    var base = ["PATH=" + (environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")]
    if let home = environment["HOME"] { base.append("HOME=" + home) }
    baseEnvironment = base
  }

  /// The folder that holds the driver's records.
  public var registryFolder: String { registry.folder }

  static let defaultStopTimeout = 10

  // MARK: - Listing

  public func containers(fixture: String) async throws -> [ObservedContainer] {
    try await observe(registry.instances(fixture: fixture))
  }

  public func containers(root: String) async throws -> [ObservedContainer] {
    try await observe(registry.fixtures().flatMap { registry.instances(fixture: $0) }.filter { $0.spec.labels[Labels.root] == root })
  }

  func observe(_ records: [ProcessInstance]) async throws -> [ObservedContainer] {
    try await withThrowingTaskGroup(of: ObservedContainer.self) { group in
      for r in records {
        group.addTask {
          let (r, state) = try await self.look(r)
          return ObservedContainer(
            id: r.id, name: r.name, image: r.spec.image, imageID: Self.imageID, state: state,
            health: state == .running || state == .paused ? r.health?.status : nil,
            labels: r.spec.labels, ports: [], ip: r.spec.ip)
        }
      }
      var out: [ObservedContainer] = []
      for try await c in group { out.append(c) }
      return out.sorted { $0.name < $1.name }
    }
  }

  public func inspect(id: String) async throws -> ContainerDetails {
    let (r, state) = try await look(try record(id))
    let live = state == .running || state == .paused
    return ContainerDetails(
      id: r.id, state: state, health: live ? r.health?.status : nil, pid: live ? r.pid ?? 0 : 0, exitCode: r.exitCode,
      startedAt: r.startedAt, ip: r.spec.ip, ports: [], labels: r.spec.labels)
  }

  func record(_ id: String) throws -> ProcessInstance {
    guard let r = registry.instance(id: id) else { throw DriverError.notFound("no such instance: \(id)") }
    return r
  }

  /// The record brought up to date with /proc (an exit noticed, its code
  /// collected when cthulhu is the parent), with a health check run when one
  /// is due; changes are saved.
  func look(_ r: ProcessInstance) async throws -> (ProcessInstance, ContainerState) {
    var (r, state) = try settle(r)
    if state == .running, let spec = r.spec.healthcheck, ProcessHealth.due(r.health ?? .starting, spec: spec, now: Date()) {
      let out = await check(r, spec)
      let now = Date()
      let verdict = ProcessHealth.next(
        r.health ?? .starting, spec: spec, passed: out.passed, output: out.output, startedAt: r.startedAt, now: now)
      r = try update(r) { $0.health = verdict }
    }
    return (r, state)
  }

  /// Notices an exit and records it.
  func settle(_ r: ProcessInstance) throws -> (ProcessInstance, ContainerState) {
    if r.spawning != nil { return try settle(adoptOrphan(r)) }
    guard let pid = r.pid, let start = r.startTime else { return (r, r.finishedAt == nil ? .created : .exited) }
    switch ProcFS.liveness(pid: pid, startTime: start) {
    case .running: return (r, .running)
    case .paused: return (r, .paused)
    case .zombie, .gone:
      if r.finishedAt != nil { return (r, .exited) }
      let code = ProcFS.reap(pid)
      Self.killLeftovers(pid: pid, startTime: start)
      return (
        try update(r) {
          $0.finishedAt = Date(); $0.exitCode = code
        }, .exited
      )
    }
  }

  /// A cthulhu was killed between spawning the instance's process and
  /// recording it: takes the process found by its `CTHULHU_ID` as the
  /// instance's (as if the start had finished), or records none.
  func adoptOrphan(_ r: ProcessInstance) throws -> ProcessInstance {
    try registry.locked(instance: r.id, of: r.fixture) {
      guard let now = registry.instance(id: r.id) else {
        var gone = r
        gone.spawning = nil
        return gone
      }
      return try adoptLocked(now)
    }
  }

  /// ``adoptOrphan(_:)`` with the instance's lock held and its record just read.
  func adoptLocked(_ record: ProcessInstance) throws -> ProcessInstance {
    guard record.spawning != nil else { return record }
    var now = record
    // Only one start can have been under way (starts hold this lock). The
    // oldest with the marker is it; a newer one is something it started
    // that made a session of its own (exec and health checks run without
    // the marker).
    let found = ProcFS.sessionLeaders(withEnvironment: now.marker).sorted { $0.startTime < $1.startTime }
    if let p = found.first {
      now.pid = p.pid
      now.startTime = p.startTime
      now.startedAt = now.spawning
      now.finishedAt = nil
      now.exitCode = nil
      now.health = now.spec.healthcheck == nil ? nil : .starting
    }
    now.spawning = nil
    try registry.save(now)
    return now
  }

  /// Changes a record under its lock, if it still describes the same
  /// process (another cthulhu may have restarted it meanwhile).
  @discardableResult
  func update(_ r: ProcessInstance, _ change: (inout ProcessInstance) -> Void) throws -> ProcessInstance {
    try registry.locked(instance: r.id, of: r.fixture) {
      guard var now = registry.instance(id: r.id) else { return r }
      guard now.pid == r.pid, now.startTime == r.startTime else { return now }
      change(&now)
      try registry.save(now)
      return now
    }
  }

  /// When an instance's first process has died, Docker kills the rest of the
  /// container; here, the rest of its process group. Its PGID is the dead
  /// leader's PID, which the kernel does not hand out again while the group
  /// has members; a PID already held by a process with another start time
  /// means the group is empty.
  static func killLeftovers(pid: Int32, startTime: UInt64) {
    if let s = ProcStat.read(pid), s.startTime != startTime { return }
    ProcFS.send(SIGKILL, to: -pid)
  }

  // MARK: - Images (there are none)

  /// The pseudo image every process instance reports.
  static let imageID = "process"

  public func imageID(_ reference: String) async throws -> String? { Self.imageID }
  public func pull(_ reference: String) async throws -> String { Self.imageID }
  public func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String {
    throw DriverError(.unsupported, "the process driver runs commands on the host and builds no images; use driver: docker for 'build:'")
  }

  // MARK: - Create and remove

  public func create(_ spec: ContainerSpec) async throws -> String {
    guard let fixture = spec.labels[Labels.fixture] else {
      throw DriverError(.unsupported, "\(spec.name): the process driver needs the \(Labels.fixture) label")
    }
    guard let command = spec.command, !command.isEmpty else {
      throw DriverError(.unsupported, "\(spec.name): the process driver needs a command to run")
    }
    let instance = spec.labels[Labels.instance] ?? spec.name
    let cwd = spec.labels[Labels.root].map { FixturePaths(root: $0).instanceFolder(ip: spec.ip) } ?? FileManager.default.currentDirectoryPath
    // (Into `bindmounts/var` itself even when the instance sees `var`
    // through a disk layer: its log is not its data, and no disk fault
    // should take it.)
    let hasVar = spec.binds.contains { $0.host.hasSuffix("/bindmounts/var") || $0.host.hasSuffix("/disk/var") }
    let log = (hasVar ? cwd + "/bindmounts/var" : cwd) + "/\(instance).log"
    let userSwitch = try UserSwitch.make(user: spec.user, instance: spec.name, folder: cwd, users: users)
    let run = (userSwitch?.prefix ?? []) + command
    let (made, network) = try registry.locked(fixture) { () throws -> (ProcessInstance, ProcessNetwork) in
      guard let net = registry.network(fixture: fixture), net.spec.name == spec.network else {
        throw DriverError.notFound("network \(spec.network) not found")
      }
      if try registry.holder(ofName: spec.name, fixture: fixture) != nil {
        throw DriverError.nameInUse("instance name \(spec.name) is already in use")
      }
      let id = ProcessRegistry.newID()
      let env = baseEnvironment + spec.env + ["CTHULHU_ID=" + id]
      var r = ProcessInstance(
        id: id, fixture: fixture, spec: spec, createdAt: Date(), mode: net.mode, argv: run,
        env: userSwitch?.environment(env) ?? env, cwd: cwd, log: log, userSwitch: userSwitch)
      if net.mode == .namespaces {
        let ns = Namespaces.namespace(fixture: fixture, instance: instance)
        r.namespace = ns
        r.hostLink = Namespaces.hostLink(fixture: fixture, instance: instance)
        // Into the namespace first (that needs root), then down to the user.
        r.argv = [HostCommand.locate("nsenter") ?? "nsenter", "--net=" + Namespaces.path(namespace: ns), "--"] + run
      }
      try registry.claim(name: spec.name, id: id, fixture: fixture)
      try registry.save(r)
      return (r, net)
    }
    if made.mode == .namespaces { try await wire(made, network) }
    return made.id
  }

  /// Namespaces mode: the fixture's bridge and the instance's namespace,
  /// set up (again) and then marked wired.
  func wire(_ r: ProcessInstance, _ network: ProcessNetwork) async throws {
    try Namespaces.requirePrivileges()
    try await ensureBridge(network)
    try await Namespaces.setUpInstance(r, network: network)
    try registry.locked(instance: r.id, of: r.fixture) {
      guard var now = registry.instance(id: r.id) else { return }
      now.wired = true
      try registry.save(now)
    }
  }

  public func remove(id: String, force: Bool) async throws {
    var r = try record(id)
    if r.spawning != nil { r = try settle(r).0 }
    if let pid = r.pid, let start = r.startTime {
      let live = ProcFS.liveness(pid: pid, startTime: start)
      if live == .running || live == .paused {
        guard force else {
          throw DriverError.conflict("instance \(r.name) is running; stop it before removing it, or force")
        }
        ProcFS.send(SIGKILL, to: -pid)
        _ = await Self.waitExit(pid: pid, startTime: start, within: .seconds(10))
      }
      Self.killLeftovers(pid: pid, startTime: start)
    }
    if r.mode == .namespaces { try await Namespaces.tearDownInstance(r) }
    ClockSkew.removeShared(env: r.env)
    // (The name index is the fixture's: its lock inside the instance's.)
    try registry.locked(instance: r.id, of: r.fixture) { try registry.locked(r.fixture) { registry.delete(r) } }
  }

  /// Polls /proc until the process has exited (reaping it when it is this
  /// process's child): 1 ms, doubling to 20 ms between looks. Returns its exit
  /// code when known; nil also when `within` passed first.
  static func waitExit(pid: Int32, startTime: UInt64, within: Duration) async -> (exited: Bool, code: Int?) {
    let deadline = ContinuousClock.now + within
    var pause = 1
    while true {
      switch ProcFS.liveness(pid: pid, startTime: startTime) {
      case .gone: return (true, nil)
      case .zombie:
        if let code = ProcFS.reap(pid) { return (true, code) }
        // Not our child: its parent reaps it; a zombie has exited all the same.
        return (true, nil)
      case .running, .paused:
        if ContinuousClock.now >= deadline { return (false, nil) }
        try? await Task.sleep(for: .milliseconds(pause))
        pause = min(pause * 2, 20)
      }
    }
  }
}

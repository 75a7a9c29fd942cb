import Foundation
import Manifest

/// The library face of cthulhu: plan, apply, destroy and inspect a fixture.
/// The CLI is a thin shell over it; a Swift test can call it directly, the
/// way Testcontainers is used from JUnit.
public struct FixtureController: Sendable {
  public var driver: any Driver

  public init(driver: any Driver) { self.driver = driver }

  /// A plan together with the resolved fixture it was made for.
  public struct PlannedChange: Sendable {
    public var plan: Plan
    public var desired: DesiredFixture
    public var observed: ObservedFixture
    public var manifest: Manifest
  }

  /// Observes the world once and diffs it against the manifest. Changes nothing.
  public func plan(_ manifest: Manifest) async throws -> PlannedChange {
    let state = try FixtureState.load(root: manifest.root)
    if let s = state, s.fixture != manifest.fixture {
      throw OrchestratorError(.foreign, "\(manifest.root) holds fixture '\(s.fixture)', not '\(manifest.fixture)'; destroy it or choose another root")
    }
    let images = manifest.groups.compactMap { g -> String? in if case .image(let r) = g.source { return r }; return nil }
    // Build tags depend only on the context, so they are known before observing.
    let buildTags = try Resolver(manifest: manifest, previous: state).builds().map(\.tag)
    let observed = try await ObservedFixture.observe(fixture: manifest.fixture, root: manifest.root, images: images + buildTags, driver: driver)
    try checkOwnership(manifest: manifest, observed: observed)
    let resolver = Resolver(manifest: manifest, previous: observed.state, usedSubnets: observed.otherSubnets, imageIDs: observed.imageIDs)
    let desired = try resolver.resolve()
    let basis = Self.basis(desired: desired, observed: observed)
    let plan = try Planner.plan(desired: desired, observed: observed, manifest: manifest.path, basis: basis)
    return PlannedChange(plan: plan, desired: desired, observed: observed, manifest: manifest)
  }

  /// Containers of this fixture's name made from another folder are not ours to change.
  func checkOwnership(manifest: Manifest, observed: ObservedFixture) throws {
    if let c = observed.containers.first(where: { $0.labels[Labels.root] != manifest.root }) {
      throw OrchestratorError(
        .foreign,
        "fixture '\(manifest.fixture)' is already running from \(c.labels[Labels.root] ?? "another folder") (\(manifest.driver == .process ? "instance" : "container") \(c.name)); destroy it there or rename this fixture")
    }
  }

  static func basis(desired: DesiredFixture, observed: ObservedFixture) -> String {
    struct Basis: Encodable {
      var instances: [[String]]
      var network: NetworkSpec
      var builds: [String]
      var state: FixtureState?
      var containers: [ObservedContainer]
      var networkID: String?
      var disk: [String: [String: String]]
    }
    var state = observed.state
    state?.updatedAt = nil
    return Hashing.sha256(
      json: Basis(
        instances: desired.instances.map { [$0.name, $0.specHash, $0.filesHash] }, network: desired.network,
        builds: desired.builds.map(\.tag), state: state,
        containers: observed.containers.sorted { $0.id < $1.id }, networkID: observed.network?.id, disk: observed.diskFiles))
  }

  public struct ApplyResult: Sendable {
    public var plan: Plan
    public var state: FixtureState
    /// Steps that failed, with their errors.
    public var failures: [(target: String, error: any Error)]
    /// Steps never started (a dependency failed, or the apply was interrupted).
    public var notStarted: [Step] = []
    /// An interrupt was requested: the steps in flight finished, no more started.
    public var interrupted = false
  }

  /// Records the fixture's time to live and (re)starts the detached reaper
  /// that destroys the fixture when it runs out. Every apply extends it.
  func armTimeToLive(store: StateStore, root: String, requested: Duration?, binary: String) async throws -> FixtureState {
    let old = await store.state
    let ttl = requested.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? old.ttlSeconds
    guard let ttl else { return old }
    if let pid = old.ttlReaperPID { Reaper.stop(pid: pid, root: root) }
    guard ttl > 0 else {
      try await store.update { $0.ttlSeconds = nil; $0.expiresAt = nil; $0.ttlReaperPID = nil }
      return await store.state
    }
    let expires = Date().addingTimeInterval(ttl)
    let pid = try Reaper.spawn(
      binary: binary, arguments: ["_reap", "--fixture", root, "--at", String(expires.timeIntervalSince1970), "--destroy"], root: root)
    try await store.update { $0.ttlSeconds = ttl; $0.expiresAt = expires; $0.ttlReaperPID = pid }
    return await store.state
  }

  /// Converges the fixture to `planned`. Takes the fixture lock; records state
  /// after every step; writes links, control shims and `spec.json` at the end.
  public func apply(_ planned: PlannedChange, options: ApplyOptions = .init(), observer: (any ApplyObserver)? = nil) async throws -> ApplyResult {
    let m = planned.manifest
    let paths = FixturePaths(root: m.root)
    try FileManager.default.createDirectory(atPath: m.root, withIntermediateDirectories: true)
    let lock = try FixtureLock(paths: paths, command: "apply")
    defer { lock.release() }
    // Re-plan under the lock: the world may have moved since the plan was shown.
    var planned = planned
    let fresh = try await plan(m)
    if fresh.plan.basis != planned.plan.basis || fresh.plan.steps != planned.plan.steps {
      // A plan someone reviewed is applied as reviewed or not at all; otherwise
      // the world moved (an engine operation of a killed apply finishing, say)
      // and the fresh plan is what converges.
      guard options.replanWhenStale else {
        throw OrchestratorError(.stalePlan, "the fixture changed since this plan was made; run `cthulhu plan` again")
      }
      observer?.replanned(fresh.plan)
      planned = fresh
    }
    var initial = planned.observed.state ?? FixtureState(fixture: m.fixture, root: m.root, driver: m.driver)
    initial.manifest = m.path
    initial.binary = options.binary
    initial.subnet = planned.desired.network.subnet
    if initial.networkID == nil { initial.networkID = planned.observed.network?.id }
    let store = StateStore(initial)
    try await store.update { _ in }
    // Images named by `image:` that this machine lacks are pulled first.
    for g in m.groups {
      if case .image(let ref) = g.source, planned.observed.imageIDs[ref] == nil,
        planned.plan.steps.contains(where: { $0.action == .create || $0.action == .replace })
      {
        _ = try await driver.pull(ref)
      }
    }
    let executor = Executor(
      plan: planned.plan, desired: planned.desired, observed: planned.observed, driver: driver, store: store,
      options: options, observer: LoggingObserver(log: EventLog(root: m.root), next: observer),
      mounts: Dictionary(m.groups.map { ($0.name, $0.mounts.map(\.name)) }, uniquingKeysWith: { a, _ in a }))
    let outcome = await executor.run()
    var failures = outcome.failures
    var state = await store.state
    // New, replaced and started instances have fresh namespaces: put their faults back.
    let renewed = planned.plan.steps.filter { $0.kind == "instance" && [.create, .replace, .start].contains($0.action) }.map(\.name)
    let failed = Set(failures.map(\.target))
    let restarted = renewed.filter { !failed.contains("instance:" + $0) && state.instance(named: $0) != nil }
    if !restarted.isEmpty {
      do { try await reapplyFaults(root: m.root, names: restarted) } catch { failures.append(Executor.Failure(target: "faults", error: error)) }
    }
    if planned.plan.hasChanges || !FileManager.default.fileExists(atPath: paths.spec) {
      try FixtureWriter(paths: paths).writeIndex(state: state, binary: options.binary)
    }
    state = try await armTimeToLive(store: store, root: m.root, requested: options.ttl, binary: options.binary)
    return ApplyResult(
      plan: planned.plan, state: state, failures: failures.map { ($0.target, $0.error) },
      notStarted: outcome.notStarted, interrupted: options.interrupt?.requested ?? false)
  }

  /// Removes exactly what the fixture made: its containers (by label), its
  /// network, and (unless `keepFiles`) its folder. Images built from `build:`
  /// stay as a build cache (tagged `cthulhu-<fixture>-<group>:<hash>`, labelled).
  /// Works from the state and labels alone, so the manifest may be gone.
  public func destroy(root: String, fixture: String? = nil, keepFiles: Bool = false, removeImages: Bool = false) async throws -> DestroyReport {
    let paths = FixturePaths(root: root)
    let state = try FixtureState.load(root: root)
    guard let name = fixture ?? state?.fixture else {
      throw OrchestratorError(.noFixture, "\(root) holds no cthulhu fixture (no .cthulhu/state.json)")
    }
    let lock: FixtureLock? = FileManager.default.fileExists(atPath: root) ? try FixtureLock(paths: paths, command: "destroy") : nil
    defer { lock?.release() }
    var report = DestroyReport(fixture: name)
    // Faults die with the namespaces; their reapers must not outlive the fixture.
    stopReapers(root: root)
    if let pid = state?.ttlReaperPID { Reaper.stop(pid: pid, root: root) }
    let containers = try await driver.containers(fixture: name).filter { $0.labels[Labels.root] == nil || $0.labels[Labels.root] == root }
    try await withThrowingTaskGroup(of: String.self) { group in
      for c in containers {
        group.addTask {
          try await driver.removeAndWait(id: c.id)
          return c.name
        }
      }
      for try await n in group { report.containers.append(n) }
    }
    for net in try await driver.networks() where net.labels[Labels.fixture] == name && net.name == Naming.network(name) {
      try await driver.removeNetwork(id: net.id)
      report.networks.append(net.name)
    }
    if removeImages { report.images = try await driver.removeBuiltImages(fixture: name) }
    if !keepFiles {
      if FileManager.default.fileExists(atPath: root) { try FileManager.default.removeItem(atPath: root) }
    } else {
      try? FileManager.default.removeItem(atPath: paths.stateFolder + "/state.json")
    }
    report.containers.sort()
    return report
  }

  public struct DestroyReport: Sendable {
    public var fixture: String
    public var containers: [String] = []
    public var networks: [String] = []
    /// Built images removed (`removeImages`).
    public var images: [String] = []
  }

  /// Live status of each instance of the fixture at `root`.
  public func status(root: String) async throws -> [InstanceStatus] {
    let state = try FixtureState.require(root: root)
    let live = try await driver.containers(fixture: state.fixture)
    let faults = (try? FaultBook.load(root: root).faults) ?? []
    return state.instances.map { r in
      let c = live.first { $0.labels[Labels.instance] == r.name }
      return InstanceStatus(
        name: r.name, group: r.group, ip: r.ip, state: c?.state.rawValue ?? "missing", health: c?.health,
        containerID: c?.id, ports: c?.ports ?? r.ports, faults: faults.filter { $0.targets.contains(r.name) }.map(\.id),
        user: r.runAs?.short)
    }
  }
}

public struct InstanceStatus: Sendable, Codable, Hashable {
  public var name: String
  public var group: String
  public var ip: IPv4Address
  public var state: String
  public var health: String?
  public var containerID: String?
  public var ports: [PortBinding]
  /// Ids of the faults in force on this instance (`cthulhu faults` lists them).
  public var faults: [String] = []
  /// Who it runs as: `1000:1000(alice)`, or `user:` as written when the
  /// image resolves it; nil for the image's default user.
  public var user: String?
}

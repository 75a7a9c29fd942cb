import Foundation
import Manifest
import Synchronization

/// Reports apply progress (the CLI prints it; a Swift test may ignore it).
public protocol ApplyObserver: Sendable {
  func started(_ step: Step)
  func finished(_ step: Step, after: Duration, error: (any Error)?)
  /// The fixture's state moved between the plan shown and the lock taken
  /// (another apply or a destroy ran); `plan` is what will run instead
  /// (only with `replanWhenStale`).
  func replanned(_ plan: Plan)
  /// Steps failed in a way a fresh look can repair (a start the engine
  /// refused, a name taken after the plan looked): the fixture was observed
  /// again, and `plan` runs next (see `FixtureController.apply`).
  func retrying(_ plan: Plan, after failures: [(target: String, error: any Error)])
  /// The engine would not start `step`'s container (`error`): `step`, a
  /// `replace` planned for it, removed it and made a new one.
  func remade(_ step: Step, because error: any Error)
  /// A `join` or `leave` step's change is in the cluster's view, and how
  /// it got there (before the step's `finished`).
  func memberChanged(_ step: Step, outcome: MembershipOutcome)
}

extension ApplyObserver {
  public func replanned(_ plan: Plan) {}
  public func retrying(_ plan: Plan, after failures: [(target: String, error: any Error)]) {}
  public func remade(_ step: Step, because error: any Error) {}
  public func memberChanged(_ step: Step, outcome: MembershipOutcome) {}
}

public struct ApplyOptions: Sendable {
  /// How many steps run at once.
  public var parallel: Int = 8
  /// How long to wait for an instance with a health check to become healthy.
  public var healthTimeout: Duration?
  /// When the state moved since the plan was made: apply a fresh plan
  /// (true) or refuse (false, for a plan someone reviewed and saved).
  public var replanWhenStale = false
  /// Set (by a Ctrl-C handler) to finish the steps in flight and start no more.
  public var interrupt: Interrupt?
  /// How long after its start an instance must still run for apply to call
  /// it started (a `run_once` instance must instead have exited with 0 or
  /// still run). Checked once for all, after the last step: one wait, one listing.
  public var settle: Duration = .milliseconds(250)
  /// After a round whose steps failed, observe the fixture again and run a
  /// fresh plan (see ``ApplyRetry``); false for an apply limited to part of
  /// a plan (a nemesis's membership change), which a fresh plan would widen.
  public var repair = true
  /// Destroy the fixture by itself this long after this apply (see `HelperProcess`).
  /// Nil keeps the fixture's previous time to live, if it had one; zero removes it.
  public var ttl: Duration?
  public init() {}
}

/// A request to stop starting new steps; the steps in flight finish.
public final class Interrupt: Sendable {
  private let flag = Mutex(false)
  public init() {}
  public func request() { flag.withLock { $0 = true } }
  public var requested: Bool { flag.withLock { $0 } }
}

/// Runs a plan's steps, independent ones in parallel. It decides nothing:
/// each step's target and action select one fixed sequence of driver and
/// filesystem calls, and what that sequence acts on (the container to
/// remove, the network to adopt, the folders to move) is written in the
/// step by the ``Planner``. A call that fails ends its step; the failure
/// says which call it was (``Call``), and the apply loop
/// (`FixtureController.apply`) decides whether a fresh look and a new plan
/// can repair it.
struct Executor {
  let plan: Plan
  let desired: DesiredFixture
  let driver: any Driver
  let store: StateStore
  let options: ApplyOptions
  let observer: (any ApplyObserver)?
  let mounts: [String: [String]]
  /// Starts the instances' disk layers (`cthulhu _disk`).
  let executable: CthulhuExecutable?
  /// The desired instances by name: each step looks its own up (a scan per
  /// step cost O(N²)).
  let desiredByName: [String: DesiredInstance]

  init(
    plan: Plan, desired: DesiredFixture, driver: any Driver, store: StateStore,
    options: ApplyOptions, observer: (any ApplyObserver)?, mounts: [String: [String]],
    executable: CthulhuExecutable? = nil
  ) {
    self.plan = plan
    self.desired = desired
    self.driver = driver
    self.store = store
    self.options = options
    self.observer = observer
    self.mounts = mounts
    self.executable = executable
    desiredByName = desired.byName
  }

  /// The engine calls whose failure a fresh look may explain (see `ApplyRetry`).
  enum Call: Sendable, Hashable {
    case createNetwork, createContainer
    /// A start or an unpause of a container.
    case start
  }

  /// A step that failed (or a check after the steps, `step` nil): which
  /// call, if it was one of the ``Call``s, and the error.
  struct Failure: Error {
    var target: String
    var step: Step? = nil
    var call: Call? = nil
    var error: any Error
  }

  /// An error of a ``Call``, on its way out of a step.
  private struct CallFailed: Error {
    var call: Call
    var error: any Error
  }

  struct Outcome {
    var failures: [Failure]
    /// Steps never started: a dependency failed, or the apply was interrupted.
    var notStarted: [Step]
    /// Steps that succeeded, in the order they ended.
    var done: [Step]
  }

  /// Runs every step whose dependencies succeeded, until a step fails in a
  /// way that `ends` says ends the run (the apply loop's judgement: by
  /// default any failure), or an interrupt is requested; the steps in
  /// flight always finish, and no step after a failed one starts.
  func run(endingOn ends: (Failure) -> Bool = { _ in true }) async -> Outcome {
    var failed: [Failure] = []
    var ended = false
    var done: [Step] = []
    var queue = StepQueue(plan.steps)
    // The steps in flight have a thread each: their file and process work blocks.
    let lanes = Lanes(max(1, options.parallel), label: "step")
    await withTaskGroup(of: (Step, Failure?).self) { group in
      var running = 0
      func launchReady() {
        while running < max(1, options.parallel), !ended, !(options.interrupt?.requested ?? false), let step = queue.next() {
          running += 1
          group.addTask(executorPreference: lanes) {
            observer?.started(step)
            let clock = ContinuousClock()
            let t0 = clock.now
            do {
              try await perform(step)
              observer?.finished(step, after: clock.now - t0, error: nil)
              return (step, nil)
            } catch let e as CallFailed {
              observer?.finished(step, after: clock.now - t0, error: e.error)
              return (step, Failure(target: step.target.description, step: step, call: e.call, error: e.error))
            } catch {
              observer?.finished(step, after: clock.now - t0, error: error)
              return (step, Failure(target: step.target.description, step: step, error: error))
            }
          }
        }
      }
      launchReady()
      while let (step, failure) = await group.next() {
        running -= 1
        if let failure {
          failed.append(failure)
          if ends(failure) { ended = true }
        } else {
          queue.succeeded(step.target)
          done.append(step)
        }
        launchReady()
      }
    }
    return Outcome(failures: failed, notStarted: queue.notStarted, done: done)
  }

  private var paths: FixturePaths { FixturePaths(root: desired.root) }

  /// Runs `body`; its error leaves tagged with `call`.
  private func calling<T>(_ call: Call, _ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch { throw CallFailed(call: call, error: error) }
  }

  func perform(_ step: Step) async throws {
    switch step.target {
    case .network: try await performNetwork(step)
    case .image(let group): try await performImage(step, group: group)
    case .instance(let name): try await performInstance(step, name: name)
    case .member(let name): try await performMember(step, name: name)
    }
  }

  func performNetwork(_ step: Step) async throws {
    switch step.action {
    case .adopt:
      let id = step.existing ?? ""
      try await store.update {
        $0.networkID = id; $0.subnet = desired.network.subnet
      }
    case .replace:
      try await readdress(step)
      try await createNetwork()
    default:
      try await createNetwork()
    }
  }

  private func createNetwork() async throws {
    let id = try await calling(.createNetwork) { try await driver.createNetwork(desired.network) }
    try await store.update {
      $0.networkID = id; $0.subnet = desired.network.subnet
    }
  }

  func performImage(_ step: Step, group: String) async throws {
    switch step.action {
    case .pull:
      // (The reference is the group's instances' image: the Planner pulls
      // only for groups that have instances.)
      guard let ref = desired.instances.first(where: { $0.group == group })?.container.image else {
        throw OrchestratorError(.step, "the plan pulls the image of group '\(group)', which has no instances")
      }
      _ = try await driver.pull(ref)
    default:
      guard let b = desired.builds.first(where: { $0.group == group }) else {
        throw OrchestratorError(.step, "the plan builds an image for group '\(group)', which builds none")
      }
      _ = try await driver.build(context: b.context, dockerfile: b.dockerfile, tag: b.tag, labels: [Labels.fixture: desired.fixture])
      try await store.update { if !$0.builtImages.contains(b.tag) { $0.builtImages.append(b.tag) } }
    }
  }

  /// Readdressing (a network `replace`): the fixture's containers go (each
  /// instance's own replace step recreates it on the new network), then the
  /// old network; each instance's folder moves to its new address, logs,
  /// state files and all, so only its address changes.
  func readdress(_ step: Step) async throws {
    for id in step.detach ?? [] { try await driver.removeAndWait(id: id) }
    if let id = step.existing {
      do { try await driver.removeNetwork(id: id) } catch let e as DriverError where e.code == .notFound {}
    }
    try await store.update { $0.networkID = nil }
    // A disk layer serves paths inside the folders that move: each ends
    // here, and the instance's replace starts it anew at its new address.
    await DiskLayers(root: paths.root).stopAll()
    let moves = (step.moves ?? []).map { (from: paths.instanceFolder(ip: $0.from), to: paths.instanceFolder(ip: $0.to)) }
    // In two passes: one instance's new address may be another's old one.
    // (A folder already moved, by an apply killed in the middle, is left.)
    let parked = moves.enumerated().map { (i, m) in (m.from + ".readdress-\(i)", m.to) }
    try await store.update { s in s.claim(parked.map { ($0.0 as NSString).lastPathComponent } + moves.map { ($0.to as NSString).lastPathComponent }) }
    let fm = FileManager.default
    for (m, p) in zip(moves, parked) where fm.fileExists(atPath: m.from) { try fm.moveItem(atPath: m.from, toPath: p.0) }
    for (from, to) in parked where fm.fileExists(atPath: from) && !fm.fileExists(atPath: to) { try fm.moveItem(atPath: from, toPath: to) }
  }

  func performInstance(_ step: Step, name: String) async throws {
    let writer = FixtureWriter(paths: paths)
    if step.action == .delete {
      if let id = step.existing { try await driver.removeAndWait(id: id) }
      await DiskLayers(root: paths.root).retire(instance: name)
      if let ip = step.folder { try writer.removeInstance(name: name, ip: ip) }
      // (Its entries stay recorded until apply's end forgets those that are gone:
      // another instance may be taking its address in this apply.)
      try await store.removeInstance(name)
      return
    }
    guard let d = desiredByName[name] else {
      throw OrchestratorError(.step, "the plan \(step.action.rawValue)s instance \(name), which the manifest does not have")
    }
    switch step.action {
    case .delete, .pull, .join, .leave:
      throw OrchestratorError(.step, "the plan asks to \(step.action.rawValue) instance \(name)")
    case .create, .replace:
      let id = try await make(d, replacing: step.existing)
      try await diskLayers(d)
      try await calling(.start) { try await driver.start(id: id) }
      try await settle(d, id: id)
    case .update:
      try writer.writeFiles(d, mounts: mounts[d.group] ?? [])
      try await record(d, containerID: step.existing)
      guard let id = step.existing else { return }
      try await driver.refreshFiles(id: id, spec: d.container, files: d.files.map(\.path))
      try await diskLayers(d)
      switch step.effect {
      case .restart?: try await driver.restart(id: id, timeout: d.container.stopTimeout)
      case .signal(let s)?: try await driver.kill(id: id, signal: s)
      case .none?, nil: break
      }
      try await settle(d, id: id)
    case .start, .adopt:
      guard let id = step.existing else { return }
      if step.action == .adopt {
        // Its files as this spec renders them, and the state's record of it.
        try writer.prepare(d, mounts: mounts[d.group] ?? [])
        try await driver.refreshFiles(id: id, spec: d.container, files: nil)
        try await record(d, containerID: id)
      }
      try await diskLayers(d)
      switch step.resume {
      case .start?: try await calling(.start) { try await driver.start(id: id) }
      case .unpause?: try await calling(.start) { try await driver.unpause(id: id) }
      case nil: break
      }
      try await settle(d, id: id)
    }
  }

  /// Starts the disk layers of the instance's mounts with faults (those
  /// running are left as they are), before the instance starts.
  private func diskLayers(_ d: DesiredInstance) async throws {
    let layers = DiskLayers(root: paths.root)
    // A mount that no longer says `faults: true` is served no more.
    for l in layers.recorded(instance: d.name) where !d.diskMounts.contains(l.mount) { await layers.retire(l) }
    guard !d.diskMounts.isEmpty else { return }
    guard let executable else {
      throw OrchestratorError(.step, "instance \(d.name) has mounts with faults, and this apply was given no cthulhu binary to serve them")
    }
    for m in d.diskMounts { try await layers.ensure(layers.layer(instance: d.name, ip: d.ip, mount: m), executable: executable) }
  }

  /// Creates the instance's container (removing `old` first) and records it; returns its id.
  private func make(_ d: DesiredInstance, replacing old: String?) async throws -> String {
    let writer = FixtureWriter(paths: paths)
    if let old { try await driver.removeAndWait(id: old) }
    try writer.prepare(d, mounts: mounts[d.group] ?? [])
    // An image pulled or built during this apply gets its id only now; the
    // hash must cover it, as the next plan's will.
    var spec = d.container
    var hash = d.specHash  // (the Resolver's, when it knew the image id)
    if spec.imageID == nil {
      spec.imageID = try await driver.imageID(spec.image)
      hash = spec.hash
    }
    spec.labels[Labels.specHash] = hash
    let id = try await calling(.createContainer) { [spec] in try await driver.create(spec) }
    var made = d
    made.container = spec
    made.container.labels[Labels.specHash] = nil
    made.specHash = hash
    try await record(made, containerID: id)
    try await forgetUnmade(d.name)
    return id
  }

  private func record(_ d: DesiredInstance, containerID: String?) async throws {
    try await store.upsert(
      InstanceRecord(
        name: d.name, group: d.group, ip: d.ip, containerID: containerID, specHash: d.specHash,
        filesHash: d.filesHash, files: Dictionary(d.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
        ports: d.container.ports, spec: d.container, runAs: d.runAs, membership: d.membership))
  }

  /// After a start: waits for health when there is a check, then records the
  /// PID (pid.txt) and the host ports the engine published.
  private func settle(_ d: DesiredInstance, id: String) async throws {
    var details = try await driver.inspect(id: id)
    if let h = d.container.healthcheck {
      let budget =
        options.healthTimeout
        ?? .nanoseconds(h.startPeriod + Int64(h.retries + 1) * (h.interval + h.timeout))
      let clock = ContinuousClock()
      let deadline = clock.now + budget
      while details.health != "healthy" {
        if details.state == .exited || details.state == .dead {
          // Its cause is in its exit status and log, not in the check.
          let report = await driver.exitReport(id: id, state: details.state)
          throw OrchestratorError(.exited, "instance \(d.name) exited \(report.status) before it was healthy" + report.logWords)
        }
        if details.health == "unhealthy" {
          throw OrchestratorError(
            .healthcheck, "instance \(d.name) is unhealthy (health check \(h.test.joined(separator: " ")))")
        }
        if clock.now > deadline {
          throw OrchestratorError(.healthcheck, "instance \(d.name) did not become healthy within \(budget)")
        }
        try await Task.sleep(for: .milliseconds(100))
        details = try await driver.inspect(id: id)
      }
    }
    try FixtureWriter(paths: paths).writePID(details.pid, ip: d.ip)
    let ports = details.ports.isEmpty ? d.container.ports : details.ports
    try await store.updateInstance(named: d.name) { $0.ports = ports }
  }
}

import Foundation
import Manifest
import Synchronization

/// Reports apply progress (the CLI prints it; a Swift test may ignore it).
public protocol ApplyObserver: Sendable {
  func started(_ step: Step)
  func finished(_ step: Step, after: Duration, error: (any Error)?)
  /// The fixture moved between the plan shown and the lock taken; `plan` is
  /// what will run instead (only with `replanWhenStale`).
  func replanned(_ plan: Plan)
  /// The engine would not start `step`'s container (`error`): it was
  /// removed and a new one made in its place (see `Executor.startOrRemakeOnce`).
  func remade(_ step: Step, because error: any Error)
}

extension ApplyObserver {
  public func replanned(_ plan: Plan) {}
  public func remade(_ step: Step, because error: any Error) {}
}

public struct ApplyOptions: Sendable {
  /// How many steps run at once.
  public var parallel: Int = 8
  /// How long to wait for an instance with a health check to become healthy.
  public var healthTimeout: Duration?
  /// The cthulhu binary the control shims call.
  public var binary: String = ApplyOptions.currentExecutable
  /// When the world moved since the plan was made: apply a fresh plan (true)
  /// or refuse (false, for a plan someone reviewed and saved).
  public var replanWhenStale = false
  /// Set (by a Ctrl-C handler) to finish the steps in flight and start no more.
  public var interrupt: Interrupt?
  /// How long after its start an instance must still run for apply to call
  /// it started (a `run_once` instance must instead have exited with 0 or
  /// still run). Checked once for all, after the last step: one wait, one listing.
  public var settle: Duration = .milliseconds(250)
  /// Destroy the fixture by itself this long after this apply (see `Reaper`).
  /// Nil keeps the fixture's previous time to live, if it had one; zero removes it.
  public var ttl: Duration?

  /// This process's executable, resolved (argv[0] may be a bare name found on PATH).
  public static var currentExecutable: String {
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return exe }
    if let exe = Bundle.main.executablePath { return exe }
    return CommandLine.arguments.first ?? "cthulhu"
  }
  public init() {}
}

/// A request to stop starting new steps; the steps in flight finish.
public final class Interrupt: Sendable {
  private let flag = Mutex(false)
  public init() {}
  public func request() { flag.withLock { $0 = true } }
  public var requested: Bool { flag.withLock { $0 } }
}

/// Runs a plan's steps, independent ones in parallel. It carries no decision
/// logic: each action maps to a fixed sequence of driver and filesystem calls.
struct Executor {
  let plan: Plan
  let desired: DesiredFixture
  let observed: ObservedFixture
  let driver: any Driver
  let store: StateStore
  let options: ApplyOptions
  let observer: (any ApplyObserver)?
  let mounts: [String: [String]]
  /// The desired instances by name, and the observed containers by
  /// instance: each step looks its own up (a scan per step cost O(N²)).
  let desiredByName: [String: DesiredInstance]
  let liveByInstance: [String: ObservedContainer]

  init(
    plan: Plan, desired: DesiredFixture, observed: ObservedFixture, driver: any Driver, store: StateStore,
    options: ApplyOptions, observer: (any ApplyObserver)?, mounts: [String: [String]]
  ) {
    self.plan = plan
    self.desired = desired
    self.observed = observed
    self.driver = driver
    self.store = store
    self.options = options
    self.observer = observer
    self.mounts = mounts
    desiredByName = desired.byName
    liveByInstance = observed.containersByInstance
  }

  struct Failure: Error { var target: String; var error: any Error }

  struct Outcome {
    var failures: [Failure]
    /// Steps never started: a dependency failed, or the apply was interrupted.
    var notStarted: [Step]
  }

  /// Runs every step whose dependencies succeeded, until a step fails or an
  /// interrupt is requested; the steps in flight always finish.
  func run() async -> Outcome {
    var failed: [Failure] = []
    var queue = StepQueue(plan.steps)
    // The steps in flight have a thread each: their file and process work blocks.
    let lanes = Lanes(max(1, options.parallel), label: "step")
    await withTaskGroup(of: (String, (any Error)?).self) { group in
      var running = 0
      func launchReady() {
        while running < max(1, options.parallel), failed.isEmpty, !(options.interrupt?.requested ?? false), let step = queue.next() {
          running += 1
          group.addTask(executorPreference: lanes) {
            observer?.started(step)
            let clock = ContinuousClock()
            let t0 = clock.now
            do {
              try await perform(step)
              observer?.finished(step, after: clock.now - t0, error: nil)
              return (step.target, nil)
            } catch {
              observer?.finished(step, after: clock.now - t0, error: error)
              return (step.target, error)
            }
          }
        }
      }
      launchReady()
      while let (target, error) = await group.next() {
        running -= 1
        if let error { failed.append(Failure(target: target, error: error)) } else { queue.succeeded(target) }
        launchReady()
      }
    }
    return Outcome(failures: failed, notStarted: queue.notStarted)
  }

  private var paths: FixturePaths { FixturePaths(root: desired.root) }

  func perform(_ step: Step) async throws {
    switch step.kind {
    case "network":
      if step.action == .replace { try await takeDownNetwork() }
      let id: String
      do {
        id = try await driver.createNetwork(desired.network)
      } catch let e as DriverError {
        // (Name conflict, or "pool overlaps" when the engine checks the subnet first.)
        // A killed apply's create finished in the engine after we looked: adopt
        // it if it is this fixture's, with this subnet; anything else is an error.
        // The engine reserves the subnet before the network is listed: give it a moment.
        var mine: ObservedNetwork?
        let end = ContinuousClock.now + .seconds(5)
        repeat {
          mine = try await driver.networks().first {
            $0.name == desired.network.name && $0.labels[Labels.fixture] == desired.fixture && $0.subnets.contains(desired.network.subnet)
          }
          if mine == nil { try await Task.sleep(for: .milliseconds(100)) }
        } while mine == nil && ContinuousClock.now < end
        guard let mine else { throw e }
        id = mine.id
      }
      try await store.update { $0.networkID = id; $0.subnet = desired.network.subnet }
    case "image":
      let b = desired.builds.first { $0.group == step.name }!
      _ = try await driver.build(context: b.context, dockerfile: b.dockerfile, tag: b.tag, labels: [Labels.fixture: desired.fixture])
      try await store.update { if !$0.builtImages.contains(b.tag) { $0.builtImages.append(b.tag) } }
    default:
      try await performInstance(step)
    }
  }

  /// Readdressing (a network `replace`): the fixture's containers go (each
  /// instance's own replace step recreates it on the new network), then the
  /// old network; each instance's folder moves to its new address, logs,
  /// state files and all, so only its address changes.
  func takeDownNetwork() async throws {
    for c in try await driver.containers(fixture: desired.fixture) where c.labels[Labels.root] == desired.root {
      try await driver.removeAndWait(id: c.id)
    }
    for net in try await driver.networks() where net.name == desired.network.name && net.labels[Labels.fixture] == desired.fixture {
      do { try await driver.removeNetwork(id: net.id) } catch let e as DriverError where e.code == .notFound {}
    }
    try await store.update { $0.networkID = nil }
    let fm = FileManager.default
    let moves = await store.state.instances.compactMap { r -> (from: String, to: String)? in
      guard let d = desiredByName[r.name], d.ip != r.ip else { return nil }
      return (paths.instanceFolder(ip: r.ip), paths.instanceFolder(ip: d.ip))
    }
    // In two passes: one instance's new address may be another's old one.
    let parked = moves.enumerated().map { (i, m) in (m.from + ".readdress-\(i)", m.to) }
    try await store.update { s in s.claim(parked.map { ($0.0 as NSString).lastPathComponent } + moves.map { ($0.to as NSString).lastPathComponent }) }
    for (m, p) in zip(moves, parked) where fm.fileExists(atPath: m.from) { try fm.moveItem(atPath: m.from, toPath: p.0) }
    for (from, to) in parked where fm.fileExists(atPath: from) && !fm.fileExists(atPath: to) { try fm.moveItem(atPath: from, toPath: to) }
  }

  func performInstance(_ step: Step) async throws {
    let name = step.name
    let live = liveByInstance[name]
    let writer = FixtureWriter(paths: paths)
    switch step.action {
    case .delete:
      let record = await store.instance(named: name)
      if let id = live?.id ?? record?.containerID { try await removeIgnoringMissing(id) }
      if let r = record { try writer.removeInstance(name: name, ip: r.ip) }
      // (Its entries stay recorded until apply's end forgets those that are gone:
      // another instance may be taking its address in this apply.)
      try await store.removeInstance(name)
    case .create, .replace:
      try await recreate(step, desiredByName[name]!, replacing: live?.id)
    case .update:
      let d = desiredByName[name]!
      try writer.writeFiles(d, mounts: mounts[d.group] ?? [])
      try await record(d, containerID: live?.id)
      guard let id = live?.id else { return }
      switch step.effect {
      case .restart?: try await driver.restart(id: id, timeout: d.container.stopTimeout)
      case .signal(let s)?: try await driver.kill(id: id, signal: s)
      case .none?, nil: break
      }
      try await settle(d, id: id)
    case .start:
      let d = desiredByName[name]!
      guard let id = live?.id else { return }
      // A container a killed apply made but did not record (its create
      // finished in the engine) is this instance's: the state says so now.
      if await store.state.instance(named: name)?.containerID != id { try await record(d, containerID: id) }
      try await startOrRemakeOnce(step, d, id: id, unpause: step.paused == true)
    }
  }

  /// Creates the instance's container (removing `old` first), records it, starts it, waits for it.
  private func recreate(_ step: Step, _ d: DesiredInstance, replacing old: String?) async throws {
    try await startOrRemakeOnce(step, d, id: try await make(d, replacing: old))
  }

  /// Starts (or unpauses) a container cthulhu made and waits for it. The
  /// one recovery the executor makes by itself: a container the engine
  /// will not start, for any cause but the engine not answering, is
  /// removed and made anew, once; if that one will not start either, that
  /// error is reported.
  ///
  /// A dockerd killed while containers ran or started leaves their
  /// containerd tasks and shim folders behind, and the restarted engine
  /// cannot start those containers again (``DriverError/Code/leftoverRuntimeState``);
  /// a new container can. The cause is not checked: an answer nobody
  /// foresaw is met the same way, so no engine message can leave a fixture
  /// that never converges.
  private func startOrRemakeOnce(_ step: Step, _ d: DesiredInstance, id: String, unpause: Bool = false) async throws {
    var id = id
    do {
      if unpause { try await driver.unpause(id: id) } else { try await driver.start(id: id) }
    } catch let e as DriverError where !e.code.isTransport {
      id = try await make(d, replacing: id)
      try await driver.start(id: id)
      observer?.remade(step, because: e)
    }
    try await settle(d, id: id)
  }

  /// Creates the instance's container (removing `old` first) and records it; returns its id.
  private func make(_ d: DesiredInstance, replacing old: String?) async throws -> String {
    let writer = FixtureWriter(paths: paths)
    if let old { try await removeIgnoringMissing(old) }
    try writer.prepare(d, mounts: mounts[d.group] ?? [])
    // An image pulled or built during this apply gets its id only now; the
    // hash must cover it, as the next plan's will.
    var spec = d.container
    var hash = d.specHash  // (the Resolver's, when it knew the image id)
    if spec.imageID == nil {
      spec.imageID = try await driver.imageID(spec.image)
      hash = Hashing.sha256(json: spec)
    }
    spec.labels[Labels.specHash] = hash
    let id: String
    do {
      id = try await driver.create(spec)
    } catch let e as DriverError where e.code == .nameInUse {
      // A container of this fixture that a killed apply made after we looked: replace it.
      guard let stale = try await driver.containers(fixture: desired.fixture).first(where: {
        $0.name == spec.name && $0.labels[Labels.root] == desired.root
      }) else { throw e }
      try await driver.removeAndWait(id: stale.id)
      id = try await driver.create(spec)
    }
    var made = d
    made.container = spec
    made.container.labels[Labels.specHash] = nil
    made.specHash = hash
    try await record(made, containerID: id)
    return id
  }

  private func removeIgnoringMissing(_ id: String) async throws {
    try await driver.removeAndWait(id: id)
  }

  private func record(_ d: DesiredInstance, containerID: String?) async throws {
    try await store.upsert(
      InstanceRecord(
        name: d.name, group: d.group, ip: d.ip, containerID: containerID, specHash: d.specHash,
        filesHash: d.filesHash, files: Dictionary(d.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a }),
        ports: d.container.ports, spec: d.container, runAs: d.runAs))
  }

  /// After a start: waits for health when there is a check, then records the
  /// PID (pid.txt) and the host ports the engine published.
  private func settle(_ d: DesiredInstance, id: String) async throws {
    var details = try await driver.inspect(id: id)
    if let h = d.container.healthcheck {
      let budget = options.healthTimeout
        ?? .nanoseconds(h.startPeriod + Int64(h.retries + 1) * (h.interval + h.timeout))
      let clock = ContinuousClock()
      let deadline = clock.now + budget
      while details.health != "healthy" {
        if details.health == "unhealthy" || details.state == .exited || details.state == .dead {
          throw OrchestratorError(.healthcheck, "instance \(d.name) is \(details.health ?? details.state.rawValue) (health check \(h.test.joined(separator: " ")))")
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

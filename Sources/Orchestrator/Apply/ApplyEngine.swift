import Foundation
import Manifest

extension ApplyEngine {
  /// Converges the fixture to `planned`. Takes the fixture lock; records state
  /// after every step (see ``StateStore``); writes links, control shims and
  /// `spec.json` at the end.
  ///
  /// The plan runs as made when the state is as the plan read it (an apply
  /// or destroy in between would have changed it); the engine is not asked
  /// again, since whatever moved there since (an operation of a killed
  /// apply finishing late) is met by trying: a step fails with a typed
  /// cause, and the failures a fresh look can repair (``ApplyRetry``) make
  /// the loop observe the fixture again and run a new plan, at most
  /// ``ApplyRetry/maxRounds`` rounds in all.
  /// The file in `.cthulhu` that says cthulhu made the root, from the
  /// moment it did until the state records it.
  static let createdRootMark = "created-root"

  public func apply(_ planned: FixtureController.PlannedChange, options: ApplyOptions = .init(), observer: (any ApplyObserver)? = nil) async throws
    -> ApplyResult
  {
    let m = planned.manifest
    let paths = FixturePaths(root: m.root)
    let executable = try requireExecutable(for: "apply (the fixture's control shims, a time to live)")
    // The root is made (or adopted) only as FixtureRoot allows; whether
    // cthulhu made it is recorded with the first state.
    let adoption = try FixtureRoot.check(root: m.root, fixture: m.fixture, manifest: m.path, state: planned.observed.state)
    // An apply killed between making the root and its first state save
    // leaves the mark, so the next apply still knows cthulhu made the root
    // (and destroy removes it).
    let mark = paths.stateFolder + "/" + Self.createdRootMark
    var createdRoot = adoption == .empty && FileManager.default.fileExists(atPath: mark)
    if adoption == .missing {
      try FileManager.default.createDirectory(
        atPath: (m.root as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      guard mkdir(m.root, 0o755) == 0 else { throw OrchestratorError.io(path: m.root, errno: errno) }
      guard mkdir(paths.stateFolder, 0o755) == 0, FileManager.default.createFile(atPath: mark, contents: nil) else {
        throw OrchestratorError.io(path: mark, errno: errno)
      }
      createdRoot = true
    }
    let lock = try FixtureLock(paths: paths, command: "apply")
    defer { lock.release() }
    var planned = planned
    if !(planned.observed.stateStamp.map { FixtureState.unchanged(since: $0, root: m.root) } ?? false) {
      // The state moved between the plan and the lock: plan again.
      let fresh = try await planner.plan(m)
      if fresh.plan.basis != planned.plan.basis || fresh.plan.steps != planned.plan.steps {
        // A plan someone reviewed is applied as reviewed or not at all;
        // otherwise the fresh plan is what converges.
        guard options.replanWhenStale else {
          throw OrchestratorError(.stalePlan, "the fixture changed since this plan was made; run `cthulhu plan` again")
        }
        observer?.replanned(fresh.plan)
      }
      planned = fresh
    }
    let first = planned.plan
    var initial = planned.observed.state ?? FixtureState(fixture: m.fixture, root: m.root, driver: m.driver)
    initial.manifest = m.path
    initial.faultPath = m.faults.via == .auto ? nil : m.faults.via
    initial.binary = executable.path
    initial.subnet = planned.desired.network.subnet
    if createdRoot { initial.createdRoot = true }
    initial.claim(FixturePaths.fixtureFiles + Self.entries(making: planned))
    let store = StateStore(initial)
    // The first save writes the whole state and starts its journal.
    try await store.update { _ in }
    let log = LoggingObserver(log: EventLog(root: m.root), next: observer)
    let mounts = m.mountNamesByGroup
    var refusals: [String: any Error] = [:]
    var held: Set<String> = []
    var done: [Step] = []
    var replans: [Plan] = []
    var outcome: Executor.Outcome
    while true {
      let executor = Executor(
        plan: planned.plan, desired: planned.desired, driver: driver, store: store, options: options,
        observer: refusals.isEmpty ? log : RemakeReporter(refusals: refusals, next: log), mounts: mounts,
        executable: executable)
      // A failure a fresh look may repair does not stop the round: the
      // others are learned in it too (every container a restarted engine
      // will not start, say), and the next plan repairs them together.
      let refused = Set(refusals.keys).union(held)
      let lastRound = !options.repair || replans.count + 1 == ApplyRetry.maxRounds
      outcome = await executor.run(endingOn: { lastRound || ApplyRetry.verdict($0, refused: refused) == .report })
      done += outcome.done
      guard !outcome.failures.isEmpty, !lastRound, !(options.interrupt?.requested ?? false),
        let next = try await replan(m, after: outcome.failures, planned: planned, refusals: &refusals, held: &held, store: store)
      else { break }
      log.retrying(next.plan, after: outcome.failures.map { ($0.target, $0.error) })
      planned = next
      replans.append(next.plan)
      let entries = Self.entries(making: planned)
      try await store.update { $0.claim(entries) }
    }
    var failures = outcome.failures
    failures += await checkStarted(done, desired: planned.desired, options: options)
    var state = await store.state
    // New, replaced and started instances have fresh namespaces: put their faults back.
    let renewed = done.filter { [.create, .replace, .start, .adopt].contains($0.action) }.compactMap(\.target.instance)
    let failed = Set(failures.map(\.target))
    let restarted = renewed.filter { !failed.contains(Step.Target.instance($0).description) && state.instance(named: $0) != nil }
    if !restarted.isEmpty {
      do { try await faults.reapplyFaults(root: m.root, names: restarted) } catch {
        failures.append(Executor.Failure(target: "faults", error: error))
      }
    }
    if first.hasChanges || !FileManager.default.fileExists(atPath: paths.spec) || !FileManager.default.fileExists(atPath: paths.fixtureInfo) {
      try FixtureWriter(paths: paths).writeIndex(state: state, binary: executable.path)
      // Entries recorded for steps that never ran (or folders since moved) are forgotten.
      try await store.update { s in
        let missing = (s.entries ?? []).filter {
          var st = stat(); return lstat(paths.root + "/" + $0, &st) != 0
        }
        if !missing.isEmpty { s.release(Set(missing)) }
      }
      state = await store.state
    }
    state = try await armTimeToLive(store: store, root: m.root, requested: options.ttl, executable: executable)
    // The journal folds into one whole state again.
    try await store.compact()
    return ApplyResult(
      plan: first, state: state, failures: failures.map { ($0.target, $0.error) },
      notStarted: outcome.notStarted, interrupted: options.interrupt?.requested ?? false,
      engineGone: failures.isEmpty ? nil : await engineGone(failures.map(\.error)), replans: replans)
  }

  /// The root entries a plan's steps may make (instance folders and links),
  /// recorded before they are made.
  static func entries(making planned: FixtureController.PlannedChange) -> [String] {
    let desiredByName = planned.desired.byName
    return planned.plan.steps.filter { $0.action != .delete }.compactMap { $0.target.instance.flatMap { desiredByName[$0] } }
      .flatMap { [$0.ip.description, $0.name] }
  }

  /// After a round whose steps failed: the plan of a fresh look that may
  /// repair them, or nil when they are to be reported (see ``ApplyRetry``).
  /// The state is the apply's own (nothing is read from disk); the engine
  /// is listed again, and, while a failed create's step would repeat, again
  /// every 100 ms until ``ApplyRetry/settle`` passes.
  func replan(
    _ m: Manifest, after failures: [Executor.Failure], planned: FixtureController.PlannedChange, refusals: inout [String: any Error],
    held: inout Set<String>, store: StateStore
  ) async throws -> FixtureController.PlannedChange? {
    var wait = false
    var addressHeld: [String: String] = [:]
    let before = Set(refusals.keys).union(held)
    for f in failures {
      switch ApplyRetry.verdict(f, refused: before) {
      case .report: return nil
      case .refused(let name): refusals[name] = f.error
      case .replan: break
      case .replanOnceSeen: wait = true
      case .addressHeld(let name):
        held.insert(name)
        addressHeld[name] = "\(f.error)"
      }
    }
    let refused = refusals.mapValues { "\($0)" }
    let deadline = ContinuousClock.now + ApplyRetry.settle
    while true {
      let state = await store.state
      let fresh = try await planner.plan(
        m, state: state, stateDigest: nil, listed: try await driver.containers(fixture: m.fixture), builds: planned.desired.builds,
        refused: refused, addressHeld: addressHeld)
      let stuck = failures.contains { f in f.step.map { ApplyRetry.repeats($0, in: fresh.plan) } ?? true }
      if !stuck { return fresh }
      guard wait, ContinuousClock.now < deadline else { return nil }
      try await Task.sleep(for: .milliseconds(100))
    }
  }

  /// The engine's absence, when it explains `errors`: one of them says so,
  /// or the engine does not answer now.
  func engineGone(_ errors: [any Error]) async -> DriverError? {
    if let e = errors.lazy.compactMap({ $0 as? DriverError }).first(where: { $0.code.isTransport }) { return e }
    do { _ = try await driver.networks() } catch let e as DriverError where e.code.isTransport { return e } catch {}
    return nil
  }

  /// Apply ends on the truth: an instance it started that has exited a
  /// moment later (`settle`) is a failure, with its exit code and last log
  /// lines, unless its group runs once and it exited with 0.
  /// `done`: the steps that succeeded, in every round.
  func checkStarted(_ done: [Step], desired: DesiredFixture, options: ApplyOptions) async -> [Executor.Failure] {
    let startedInRounds = done.filter { step in
      guard step.target.instance != nil else { return false }
      switch step.action {
      case .create, .replace: return true
      // A thawed instance was running all along: its start is not in question.
      case .start, .adopt: return step.resume == .start
      case .update: return step.effect == .restart
      case .delete, .pull, .join, .leave: return false
      }
    }.map(\.name)
    var seen = Set<String>()
    let started = startedInRounds.filter { seen.insert($0).inserted }
    guard !started.isEmpty, options.settle > .zero, !(options.interrupt?.requested ?? false) else { return [] }
    try? await Task.sleep(for: options.settle)
    // Apply ends on the truth or says it could not see it: a listing that
    // fails here fails the apply (its steps are done and recorded).
    let live: [ObservedContainer]
    do {
      live = try await driver.containers(fixture: desired.fixture)
    } catch {
      return [Executor.Failure(target: "fixture:" + desired.fixture, error: error)]
    }
    let byName = Dictionary(live.compactMap { c in c.labels[Labels.instance].map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
    var failures: [Executor.Failure] = []
    let desiredByName = desired.byName
    for name in started {
      guard let c = byName[name], c.state == .exited || c.state == .dead, let d = desiredByName[name] else { continue }
      let report = await driver.exitReport(id: c.id, state: c.state)
      if d.runOnce && report.code == 0 { continue }
      let what = d.runOnce ? "ran once and exited \(report.status)" : "exited \(report.status) right after its start"
      failures.append(
        Executor.Failure(
          target: "instance:" + name,
          error: OrchestratorError(
            .exited,
            "instance \(name) \(what)" + report.logWords
              + (d.runOnce ? "" : "\n  (a group meant to run and exit says `run_once: true`)"))))
    }
    return failures
  }
}

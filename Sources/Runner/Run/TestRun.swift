import Foundation
import History
import Manifest
import Orchestrator

/// `cthulhu test`: one whole correctness run against the fixture.
///
/// Applies the fixture when it is not up to date, starts one client per
/// worker, runs the generator and the manifest's nemesis together for the
/// time limit, stops the nemesis and heals everything, waits `final_wait`,
/// runs the final reads, checks the history and writes the run folder.
/// A stop (Ctrl-C) ends it early the same way, without the final wait and
/// reads, and marks it interrupted.
public struct TestRun {
  public let controller: FixtureController
  public let manifest: Manifest
  public var options: TestOptions

  public init(controller: FixtureController, manifest: Manifest, options: TestOptions) {
    self.controller = controller
    self.manifest = manifest
    self.options = options
  }

  /// The workload to run, with the options applied.
  public func workload() throws -> Workload {
    let names = manifest.workloads.map(\.name)
    var w: Workload
    if let name = options.workload {
      guard let found = manifest.workloads.first(where: { $0.name == name }) else {
        throw RunError.manifest(
          names.isEmpty
            ? "\(manifest.path) declares no workloads: (see docs/manifest.md, \"workloads\")"
            : "\(manifest.path) has no workload '\(name)'; it has \(names.joined(separator: ", "))")
      }
      w = found
    } else {
      guard names.count == 1 else {
        throw RunError.manifest(
          names.isEmpty
            ? "\(manifest.path) declares no workloads: (see docs/manifest.md, \"workloads\")"
            : "\(manifest.path) has \(names.count) workloads (\(names.joined(separator: ", "))): pick one with --workload")
      }
      w = manifest.workloads[0]
    }
    if let t = options.timeLimit { w.timeLimit = t }
    if let c = options.concurrency { w.concurrency = c }
    if let r = options.rate { w.rate = r }
    return w
  }

  /// Runs it; the folder and its results (already written).
  public func run() async throws -> (RunFolder, RunResults) {
    let w = try workload()
    try ClientCommand.check(w.client.command, directory: manifest.directory)
    let seed = options.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
    let root = manifest.root
    let planned = try await controller.plan(manifest)
    if planned.plan.hasChanges {
      options.progress("applying the fixture first (\(planned.plan.steps.count) steps)")
      let applied = try await controller.apply(planned)
      // A fixture that did not come up whole would make the verdict about the wrong system.
      if let f = applied.failures.first {
        throw RunError.fixture("the fixture did not come up: \(f.target): \(f.error); nothing was run")
      }
      if applied.interrupted { throw RunError.fixture("the apply was interrupted; nothing was run") }
    }
    // The nemesis is checked against the fixture before anything starts.
    var schedule = manifest.nemesis
    if let seed = options.seed { schedule?.seed = seed }
    if let schedule { try controller.prepareNemesisHere(schedule, root: root, workload: w.name) }
    // Healed and ended below; this, when the run ends early.
    defer { if schedule != nil { FixtureController.endNemesisHere(root: root) } }
    let started = Date()
    // The history's clock at the same moment, so the report puts operations and faults on one axis.
    let clock = HistoryEvent.monotonicNow()
    let folder = try RunFolder.create(root: root, workload: w.name, time: started)
    // Lines the instances stated before now only declare properties (RunProperties).
    try RunProperties.markStart(folder: folder)
    options.progress("run folder: \(folder.path)")
    if schedule != nil { try FixtureController.nemesisHereWrites(runFolder: folder.path, root: root) }
    try? FileManager.default.copyItem(atPath: manifest.path, toPath: folder.manifest)
    try? RunResults.encoder.encode(planned.plan).write(to: URL(fileURLWithPath: folder.plan))
    let paths = FixturePaths(root: root)
    let eventsFrom = (try? FileManager.default.attributesOfItem(atPath: paths.events)[.size] as? Int) ?? 0

    let setup = Worker.Setup(
      client: w.client, directory: manifest.directory,
      environment: [
        "CTHULHU_FIXTURE": root, "CTHULHU_SPEC": paths.spec, "CTHULHU_SEED": String(seed), "CTHULHU_ASSERTIONS": folder.assertions,
        "CTHULHU_RUN": folder.path,
      ],
      timeout: w.timeout, concurrency: w.concurrency, logs: folder.clients)
    let workers = (0..<w.concurrency).map { Worker(index: $0, setup: setup) }
    let history = try HistoryWriter(path: folder.history)
    defer { for worker in workers { worker.stop() } }
    for worker in workers { try worker.start() }

    let generator = OperationGenerator(workload: w, seed: seed)
    let source = OperationSource(generator: generator, rate: w.rate, timeLimit: w.timeLimit)
    let stop = options.stop
    // The nemesis's steps go into the history, on the clients' clock.
    let nemesisOps = schedule.map { _ in NemesisHistory(history: history, origin: clock) }
    let nemesis = nemesisOps.map { ops in
      let controller = self.controller
      return Task { try await controller.runNemesis(root: root, observer: ops) { source.isStopped || stop.requested } }
    }
    options.progress(
      "running \(w.name): \(w.concurrency) workers, \(w.rate.map { "\(Int($0))/s" } ?? "no rate limit"), \(Units.text(w.timeLimit)), seed \(seed)"
        + (nemesis == nil ? "" : ", with the nemesis"))
    let watcher = Task {
      while !source.isStopped {
        if stop.requested { source.stop() }
        try? await Task.sleep(for: .milliseconds(20))
      }
    }
    await onThreads(workers.count) { i in
      while let op = source.next() { _ = workers[i].perform(op, into: history) }
    }
    watcher.cancel()
    var problems: [String] = []
    if let nemesis, let nemesisOps {
      do { try await nemesis.value } catch { problems.append("the nemesis: \(error)") }
      options.progress("healing")
      nemesisOps.stopStarts()
      do {
        nemesisOps.stopEnded(.success(try await controller.stopNemesis(root: root)))
      } catch {
        nemesisOps.stopEnded(.failure(error))
        problems.append("healing: \(error)")
      }
      FixtureController.endNemesisHere(root: root)
    }
    if !stop.requested {
      if w.finalWait > .zero {
        options.progress("waiting \(Units.text(w.finalWait)) (final_wait)")
        let until = ContinuousClock.now + w.finalWait
        while ContinuousClock.now < until, !stop.requested { try? await Task.sleep(for: .milliseconds(20)) }
      }
      source.queueFinals(generator.finalReads())
      options.progress("final reads")
      await onThreads(workers.count) { i in
        while !stop.requested, let op = source.nextFinal() {
          // A final read is tried again after a fail or info, a few times.
          var tries = 0
          while workers[i].perform(op, into: history).type != .ok, tries < 4, !stop.requested { tries += 1 }
        }
      }
    }
    let interrupted = stop.requested
    for worker in workers { worker.stop() }
    problems += workers.compactMap { $0.broken.map { "worker \($0)" } }
    try history.flush()
    return try await finish(
      folder: folder, workload: w, seed: seed, started: started, clock: clock, interrupted: interrupted,
      faults: nemesisOps?.faults ?? [], problems: problems, eventsFrom: eventsFrom)
  }
}

import Foundation
import Manifest

extension FaultInjector {
  /// Stops the reapers and packet delayers of `root`'s faults (destroy calls this).
  func stopReapers(root: String) async {
    let book = (try? FaultBook.load(root: root)) ?? FaultBook()
    for f in book.faults { if let pid = f.reaperPID { HelperProcess.signal(pid: pid, .reaper, root: root) } }
    for (name, pid) in book.delayers ?? [:] { await PacketDelayerProcess.stop(pid: pid, root: root, instance: name) }
  }

  /// Starts a ``PacketDelayer`` in the namespace of every target whose new
  /// rules need one and that has none with the same delay (a restarted
  /// instance has a new namespace: `fresh`). Stops the one it replaces.
  func startDelayers(
    _ targets: [Target], before: [String: NetRules], after: [String: NetRules], fresh: Bool = false,
    delayers: inout [String: Int32], started: inout [(String, Int32)], root: String
  ) async throws {
    for t in targets {
      guard let plan = after[t.name]?.delayerPlan else { continue }
      let old = delayers[t.name]
      if !fresh, let old, before[t.name]?.delayerPlan == plan, PacketDelayerProcess.isDelayer(pid: old, root: root, instance: t.name) { continue }
      guard let namespace = t.runner.hostNamespace else {
        throw OrchestratorError(
          .unsupported,
          "\(t.name): this kernel has no netem (sch_netem), so cthulhu delays packets with a process of its own inside the instance's network namespace, which it enters from this machine; the fault helper path (faults.via: helper) cannot carry it. Run cthulhu as root with faults.via: host (or auto). Nothing was changed."
        )
      }
      let executable = try requireExecutable(for: "\(t.name): a delay on a kernel without netem (its packet delayer, cthulhu _delay)")
      if let old { await PacketDelayerProcess.stop(pid: old, root: root, instance: t.name) }
      let pid = try await PacketDelayerProcess.start(executable, root: root, instance: t.name, namespace: namespace, plan: plan)
      delayers[t.name] = pid
      started.append((t.name, pid))
    }
  }

  // MARK: - The one path every fault change takes

  struct Target: Sendable {
    var name: String
    var ip: IPv4Address
    /// Carries the commands into the instance's namespace (host or helper).
    var runner: any NetnsRunner
  }

  /// Under the fault lock: lifts expired faults, applies `mutate` to the book,
  /// makes every instance whose rules changed hold its new rules, and saves.
  /// Checks privileges, netem and every namespace before the first change;
  /// a failure half-way puts the old rules back.
  func changeFaults<R: Sendable>(
    root: String, _ change: FaultChange, targets: [String]? = nil,
    _ mutate: (inout FaultBook, FixtureState) throws -> R
  ) async throws -> R {
    let state = try FixtureState.require(root: root)
    let paths = FixturePaths(root: root)
    let lock = try FixtureLock(paths: paths, command: change.words, file: "faults.lock", wait: .seconds(30))
    defer { lock.release() }
    let log = EventLog(root: root)
    let actor = "faults[\(getpid())]"
    let old = try FaultBook.load(root: root)
    var book = old
    let expired = book.expired(at: Date())
    book.faults.removeAll { f in expired.contains { $0.id == f.id } }
    let result = try mutate(&book, state)
    let ips = Dictionary(state.instances.map { ($0.name, $0.ip) }, uniquingKeysWith: { a, _ in a })
    let before = NetRules.compute(book: old, ips: ips)
    var after = NetRules.compute(book: book, ips: ips)
    let changed = Set(ips.keys.filter { before[$0] != after[$0] })
    let clocksBefore = ClockSkew.offsets(book: old)
    var clockChanged: Set<String> = []
    var diskChanged: Set<String> = []
    var diskDone: [(DiskLayers.Layer, [DiskFaultRule])] = []
    let start = ContinuousClock.now
    do {
      diskChanged = try setDiskRules(old: old, new: book, root: root, done: &diskDone)
      if !changed.isEmpty {
        // Helpers a killed cthulhu left behind go first (best effort; they
        // also end by themselves, see DockerDriver+FaultHelper.swift).
        _ = try? await driver.removeFaultHelpers(root: root, all: false)
        // The namespaces first: a driver without them (loopback) says so, which root would not fix.
        let targets = try await namespaces(of: changed, state: state)
        do {
          for t in targets { try t.runner.checkAccess() }
          // A new delay: netem where the kernel has it, else the queue path.
          if let probe = targets.first?.runner, book.faults.contains(where: { $0.kind == .delay && $0.delayPath == nil }) {
            let path: Fault.DelayPath = try await NetFaultEnforcer.hasNetem(probe) ? .netem : .queue
            for i in book.faults.indices where book.faults[i].kind == .delay && book.faults[i].delayPath == nil {
              book.faults[i].delayPath = path
            }
            after = NetRules.compute(book: book, ips: ips)
          }
          var delayers = book.delayers ?? [:]
          var started: [(String, Int32)] = []
          do {
            try await startDelayers(targets, before: before, after: after, delayers: &delayers, started: &started, root: root)
            try await enforce(targets.map { ($0, after[$0.name]!) })
          } catch {
            for (name, pid) in started { await PacketDelayerProcess.stop(pid: pid, root: root, instance: name) }
            try? await enforce(targets.map { ($0, before[$0.name]!) })
            throw error
          }
          // The rules no longer send packets to them: the delayers let what they hold go and exit.
          for (name, pid) in delayers where !(after[name]?.needsDelayer ?? false) {
            await PacketDelayerProcess.stop(pid: pid, root: root, instance: name)
            delayers[name] = nil
          }
          book.delayers = delayers.isEmpty ? nil : delayers
        } catch {
          await closeRunners(targets)
          throw error
        }
        await closeRunners(targets)
      }
      // Clock skews: the timestamp files of the instances whose offset changed.
      let clocksAfter = ClockSkew.offsets(book: book)
      var clocks: [String: Double?] = [:]
      for n in Set(clocksBefore.keys).union(clocksAfter.keys) where clocksBefore[n] != clocksAfter[n] { clocks[n] = clocksAfter[n] }
      if !clocks.isEmpty { try ClockSkew.write(clocks, state: state) }
      clockChanged = Set(clocks.keys)
      try book.save(root: root)
    } catch {
      restoreDiskRules(diskDone)
      log.append(Event(actor: actor, kind: change.eventKind, action: change.words, targets: targets ?? [], failed: "\(error)"))
      throw error
    }
    let seconds = (ContinuousClock.now - start).seconds
    let gone = old.faults.filter { f in !book.faults.contains { $0.id == f.id } }
    for f in gone { if let pid = f.reaperPID { HelperProcess.signal(pid: pid, .reaper, root: root) } }
    for f in expired {
      log.append(
        Event(
          actor: actor, kind: .expire, action: "expire \(f.id)", targets: f.targets, instances: f.targets, detail: "lifted \(f.summary)",
          seconds: seconds,
          lifted: [f.id]))
    }
    for f in book.faults where !old.faults.contains(where: { $0.id == f.id }) {
      log.append(
        Event(
          actor: actor, kind: .fault, action: "\(f.kind.rawValue) \(f.id)", targets: f.targets, instances: f.targets, detail: f.summary,
          seconds: seconds, fault: f.id))
    }
    if change == .heal || change == .clockReset {
      let lifted = gone.filter { f in !expired.contains { $0.id == f.id } }
      let healed = changed.union(clockChanged).union(diskChanged).sorted()
      log.append(
        Event(
          actor: actor, kind: change.eventKind, action: change.words, targets: targets ?? ["all"],
          instances: healed,
          detail: (healed.isEmpty ? "nothing to heal" : "healed " + healed.joined(separator: ","))
            + (lifted.isEmpty ? "" : "; lifted " + lifted.map(\.id).joined(separator: ",")),
          seconds: seconds, lifted: lifted.map(\.id)))
    }
    return result
  }

  /// A runner into the namespace of each named instance that is running,
  /// by the fixture's fault path; instances that are stopped get their
  /// rules when they start, unless their namespace outlives the stop (the
  /// process driver's): then it is changed now, or a rule lifted while they
  /// were stopped would still be there when they start. A driver that cannot host faults says so here,
  /// before anything changed. The caller closes the runners.
  func namespaces(of names: Set<String>, state: FixtureState) async throws -> [Target] {
    let live = try await driver.containers(fixture: state.fixture).filter { $0.labels[Labels.root] == state.root }.byInstance()
    var out: [Target] = []
    do {
      for r in state.instances where names.contains(r.name) {
        guard let c = live[r.name],
          c.state == .running || c.state == .paused || (driver.namespaceOutlivesStop && c.state != .removing)
        else { continue }
        let request = NetnsRequest(via: state.faultPath ?? .auto, root: state.root, instance: r.name)
        guard let runner = try await driver.netnsRunner(id: c.id, request: request) else { continue }
        out.append(Target(name: r.name, ip: r.ip, runner: runner))
      }
    } catch {
      await closeRunners(out)
      throw error
    }
    return out
  }

  func closeRunners(_ targets: [Target]) async {
    await withTaskGroup(of: Void.self) { group in
      for t in targets { group.addTask { await t.runner.close() } }
    }
  }

  func enforce(_ work: [(Target, NetRules)]) async throws {
    let enforcer = NetFaultEnforcer()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (t, rules) in work {
        group.addTask { try await enforcer.enforce(rules, runner: t.runner, ip: t.ip, instance: t.name) }
      }
      try await group.waitForAll()
    }
  }

  static func fault(for request: FaultRequest, id: String, state: FixtureState) throws -> Fault {
    let known = Set(state.instances.map(\.name))
    func check(_ names: [String]) throws -> [String] {
      if let bad = names.first(where: { !known.contains($0) }) {
        throw OrchestratorError(.noInstance, "fixture '\(state.fixture)' has no instance '\(bad)'")
      }
      guard !names.isEmpty else { throw OrchestratorError(.badTargets, "no instances given") }
      return names
    }
    switch request {
    case .partition(let sets):
      let shaped = try PartitionShape.split(sets.map { try check($0) })
      var f = Fault(id: id, kind: .partition, targets: state.instances.map(\.name).filter(Set(sets.joined()).contains))
      f.grudge = shaped.grudge
      f.sets = shaped.sets
      return f
    case .shaped(let shape, let names):
      let shaped = try shape.apply(to: try check(names))
      var f = Fault(id: id, kind: .partition, targets: names.sorted())
      f.grudge = shaped.grudge
      f.sets = shaped.sets
      f.shape = shape.rawValue
      return f
    case .isolate(let names):
      return Fault(id: id, kind: .isolate, targets: try check(names))
    case .loss(let p, let names):
      var f = try percent(p, "loss") { Fault(id: id, kind: .loss, targets: try check(names)) }
      f.lossPercent = p
      return f
    case .rate(let bits, let names):
      var f = Fault(id: id, kind: .rate, targets: try check(names))
      f.rateBits = bits
      return f
    case .delay(let ms, let jitter, let distribution, let reorder, let names):
      return try delay(ms, jitter, distribution, reorder) { Fault(id: id, kind: .delay, targets: try check(names)) }
    case .linkDelay(let ms, let jitter, let distribution, let reorder, let a, let b):
      return try delay(ms, jitter, distribution, reorder) { try link(.delay, a, b) }
    case .linkLoss(let p, let a, let b):
      var f = try percent(p, "loss") { try link(.loss, a, b) }
      f.lossPercent = p
      return f
    case .duplicate(let p, let names):
      var f = try percent(p, "duplicate") { Fault(id: id, kind: .duplicate, targets: try check(names)) }
      f.duplicatePercent = p
      return f
    case .linkDuplicate(let p, let a, let b):
      var f = try percent(p, "duplicate") { try link(.duplicate, a, b) }
      f.duplicatePercent = p
      return f
    case .clockSkew(let seconds, let names):
      var f = Fault(id: id, kind: .clock, targets: try check(names))
      f.skewSeconds = seconds
      return f
    case .disk(let rule, let mount, let names):
      var f = Fault(id: id, kind: .disk, targets: try check(names))
      f.diskRule = rule
      f.diskMount = mount
      return f
    }
    /// `make`'s fault, once `p` is known to be a percentage.
    func percent(_ p: Double, _ what: String, _ make: () throws -> Fault) throws -> Fault {
      guard p >= 0, p <= 100 else { throw OrchestratorError(.unsupported, "\(what) must be a percentage from 0 to 100 (got \(p))") }
      return try make()
    }
    /// `make`'s fault with a delay, its jitter and its share let through at once, once they are known to be sound.
    func delay(
      _ ms: Double, _ jitter: Double?, _ distribution: PacketDelayer.Distribution, _ reorder: Double?, _ make: () throws -> Fault
    ) throws -> Fault {
      guard ms > 0, ms < 3_600_000 else { throw OrchestratorError(.unsupported, "delay must be between 0 and 1h (got \(ms) ms)") }
      var f = try percent(reorder ?? 0, "reorder", make)
      f.delayMs = ms
      f.reorderPercent = reorder.flatMap { $0 > 0 ? $0 : nil }
      f.jitterMs = jitter
      if jitter != nil, distribution != .normal { f.jitterDistribution = distribution }
      return f
    }
    /// A fault on the link between two disjoint, non-empty sets.
    func link(_ kind: Fault.Kind, _ a: [String], _ b: [String]) throws -> Fault {
      let a = Array(Set(try check(a))).sorted()
      let b = Array(Set(try check(b))).sorted()
      if let both = a.first(where: b.contains) {
        throw OrchestratorError(.unsupported, "\(both) is on both sides of the link (--between and --and); the two sets must be disjoint")
      }
      var f = Fault(id: id, kind: kind, targets: state.instances.map(\.name).filter(Set(a + b).contains))
      f.between = [a, b]
      return f
    }
  }
}

/// A change of the fault book: what `changeFaults` is asked to do, for its
/// lock's holder, its events and what it reports.
enum FaultChange: Sendable, Hashable {
  /// Put a new fault of this kind in force.
  case make(Fault.Kind)
  /// Lift faults by id.
  case lift
  /// Lift the faults whose `--for` ran out (every change does this first).
  case expire
  /// Lift or narrow every fault on the targets.
  case heal
  /// Lift clock skews.
  case clockReset

  /// As people say it (`partition`, `clock reset`): the lock's holder, an event's action.
  var words: String {
    switch self {
    case .make(let kind): kind.rawValue
    case .lift: "lift"
    case .expire: "expire"
    case .heal: "heal"
    case .clockReset: "clock reset"
    }
  }

  var eventKind: Event.Kind {
    switch self {
    case .make: .fault
    case .lift: .lift
    case .expire: .expire
    case .heal: .heal
    case .clockReset: .clockReset
    }
  }
}

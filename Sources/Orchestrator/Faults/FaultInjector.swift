import Foundation
import Manifest

extension FaultInjector {
  /// Puts a fault in force: records it in `.cthulhu/faults.json` and makes the
  /// namespaces of the instances whose rules change hold the new rules. When
  /// `lasting` is given, a detached reaper lifts the fault after that long,
  /// even if every cthulhu and the shell that ran it have exited.
  /// On any failure nothing stays changed.
  /// `owner` tags the fault (see ``Fault/owner``). `delayPath` chooses how a
  /// delay is carried (default: netem where the kernel has it, else the queue).
  public func inject(
    _ request: FaultRequest, root: String, lasting: Duration? = nil, owner: String? = nil, delayPath: Fault.DelayPath? = nil
  ) async throws -> Fault {
    if delayPath != nil && request.kind != .delay {
      throw OrchestratorError(.unsupported, "a delay path is for a delay, not a \(request.kind.rawValue)")
    }
    let reaper = try lasting.map { _ in try requireExecutable(for: "a fault with a duration (its detached cthulhu _reap)") }
    if case .clockSkew(_, let names) = request { try await checkClockSkew(names, root: root) }
    if case .disk(_, let mount, let names) = request { try checkDisk(names, mount: mount, root: root) }
    let made = try await changeFaults(root: root, .make(request.kind), targets: request.names) { book, state in
      var f = try Self.fault(for: request, id: book.allocateID(), state: state)
      f.owner = owner
      if let delayPath { f.delayPath = delayPath }
      if let lasting {
        f.expiresAt = Date().addingTimeInterval(lasting.seconds)
      }
      book.add(f)
      return f
    }
    // As recorded (a delay's path is chosen after the book is changed).
    let fault = (try? FaultBook.load(root: root).faults.first { $0.id == made.id }) ?? made
    guard let expires = fault.expiresAt, let reaper else { return fault }
    let pid = try HelperProcess.spawn(
      reaper, .reaper, arguments: ["--fixture", root, "--at", String(expires.timeIntervalSince1970)], root: root)
    // Record the reaper so that heal and destroy can stop it; no rule changes.
    let paths = FixturePaths(root: root)
    let lock = try FixtureLock(paths: paths, command: "fault", file: "faults.lock", wait: .seconds(30))
    defer { lock.release() }
    var book = try FaultBook.load(root: root)
    if let i = book.faults.firstIndex(where: { $0.id == fault.id }) {
      book.faults[i].reaperPID = pid
      try book.save(root: root)
      return book.faults[i]
    }
    return fault
  }

  /// What `heal` did: the faults lifted entirely, and those still in force
  /// on fewer instances.
  public struct HealReport: Sendable, Hashable {
    public var lifted: [Fault]
    public var narrowed: [Fault]
    public var nothingToHeal: Bool { lifted.isEmpty && narrowed.isEmpty }
  }

  /// Lifts the faults on `names` (every fault when nil).
  @discardableResult
  public func heal(root: String, names: [String]? = nil) async throws -> HealReport {
    try await changeFaults(root: root, .heal, targets: names ?? ["all"]) { book, _ in
      let before = Dictionary(book.faults.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
      let lifted = book.heal(names.map(Set.init))
      return HealReport(lifted: lifted, narrowed: book.faults.filter { before[$0.id] != $0 })
    }
  }

  /// Sets the wall clock of `names` (every instance when nil) back: lifts
  /// their clock skews and nothing else (`cthulhu clock reset`).
  @discardableResult
  public func resetClocks(root: String, names: [String]? = nil) async throws -> HealReport {
    try await changeFaults(root: root, .clockReset, targets: names ?? ["all"]) { book, _ in
      let before = Dictionary(book.faults.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
      var lifted: [Fault] = []
      book.faults = book.faults.compactMap { f in
        guard f.kind == .clock else { return f }
        var g = f
        g.targets.removeAll { names?.contains($0) ?? true }
        if g.targets.isEmpty { lifted.append(f); return nil }
        return g
      }
      return HealReport(lifted: lifted, narrowed: book.faults.filter { before[$0.id] != $0 })
    }
  }

  /// Refuses, before anything changes, a clock skew on an instance that
  /// cannot take it: its group does not preload libfaketime, or its running
  /// program did not load it (a static binary).
  func checkClockSkew(_ names: [String], root: String) async throws {
    let state = try FixtureState.require(root: root)
    let live = try await driver.containers(fixture: state.fixture).filter { $0.labels[Labels.root] == state.root }.byInstance()
    for r in state.instances where names.contains(r.name) {
      guard r.spec?.env.contains(where: { $0.hasPrefix("FAKETIME_TIMESTAMP_FILE=") }) ?? false else {
        throw OrchestratorError(
          .unsupported,
          "\(r.name): group '\(r.group)' does not preload libfaketime, so its clock cannot be skewed; add `clock_skew: true` to the group and apply (its instances restart). Nothing was changed."
        )
      }
      guard let c = live[r.name], c.state == .running || c.state == .paused else { continue }
      let pid = try await driver.inspect(id: c.id).pid
      guard pid > 0, FileManager.default.fileExists(atPath: "/proc/\(pid)") else { continue }
      if let why = ClockSkew.refusal(instance: r.name, pid: pid) { throw OrchestratorError(.unsupported, why + ". Nothing was changed.") }
    }
  }

  /// Lifts every fault whose `--for` has run out (the reaper calls this; so
  /// does every fault command, in case a reaper was killed).
  @discardableResult
  public func liftExpired(root: String) async throws -> [Fault] {
    guard try !FaultBook.load(root: root).expired(at: Date()).isEmpty else { return [] }
    return try await changeFaults(root: root, .expire) { _, _ in [] }
  }

  /// The faults in force at `root`.
  public func faults(root: String) throws -> [Fault] { try FaultBook.load(root: root).faults }

  /// The faults in force at `root`, after lifting those whose `--for` ran
  /// out (their reaper may have been killed); the fixture's driver is made
  /// only when there is one to lift.
  public static func faultsInForce(root: String, executable: CthulhuExecutable) async throws -> [Fault] {
    let state = try FixtureState.require(root: root)
    if try !FaultBook.load(root: root).expired(at: Date()).isEmpty {
      _ = try await Drivers.with(state.driver) { try await FaultInjector(driver: $0, executable: executable).liftExpired(root: root) }
    }
    return try FaultBook.load(root: root).faults
  }

  /// Puts the recorded faults back into the namespaces of `names`, which were
  /// just started, restarted or recreated and so have fresh, empty ones.
  public func reapplyFaults(root: String, names: [String]) async throws {
    let book = try FaultBook.load(root: root)
    guard !book.faults.isEmpty else { return }
    let state = try FixtureState.require(root: root)
    // A clock skew lives in the instance folder, which a recreated instance may have lost.
    let skews = ClockSkew.offsets(book: book).filter { names.contains($0.key) }
    if !skews.isEmpty { try ClockSkew.write(skews.mapValues { Optional($0) }, state: state) }
    // A disk layer made anew holds no rules.
    let disks = try reapplyDiskRules(root: root, names: names)
    if !disks.isEmpty {
      EventLog(root: root).append(
        Event(actor: "faults[\(getpid())]", kind: .reapply, action: "reapply disk rules", targets: disks, instances: disks))
    }
    let ips = Dictionary(state.instances.map { ($0.name, $0.ip) }, uniquingKeysWith: { a, _ in a })
    var rules = NetRules.compute(book: book, ips: ips)
    let wanted = Set(names).filter { !(rules[$0]?.isEmpty ?? true) }
    guard !wanted.isEmpty else { return }
    // The namespaces first: a driver without them (loopback) says so, which root would not fix.
    let targets = try await namespaces(of: wanted, state: state)
    do {
      for t in targets { try t.runner.checkAccess() }
      if targets.contains(where: { rules[$0.name]?.delayMs != nil || !(rules[$0.name]?.links.isEmpty ?? true) }) {
        // Recorded under the fault lock: a delay made while its instances
        // were all stopped was never probed; fresh namespaces need their
        // delayers started anew.
        let lock = try FixtureLock(paths: FixturePaths(root: root), command: "reapply", file: "faults.lock", wait: .seconds(30))
        defer { lock.release() }
        var current = try FaultBook.load(root: root)
        if let probe = targets.first?.runner, current.faults.contains(where: { $0.kind == .delay && $0.delayPath == nil }) {
          let path: Fault.DelayPath = try await NetFaultEnforcer.hasNetem(probe) ? .netem : .queue
          for i in current.faults.indices where current.faults[i].kind == .delay && current.faults[i].delayPath == nil {
            current.faults[i].delayPath = path
          }
        }
        rules = NetRules.compute(book: current, ips: ips)
        var delayers = current.delayers ?? [:]
        var started: [(String, Int32)] = []
        try await startDelayers(targets, before: [:], after: rules, fresh: true, delayers: &delayers, started: &started, root: root)
        current.delayers = delayers.isEmpty ? nil : delayers
        try current.save(root: root)
      }
      let final = rules
      try await enforce(targets.map { ($0, final[$0.name]!) })
    } catch {
      await closeRunners(targets)
      throw error
    }
    await closeRunners(targets)
    EventLog(root: root).append(
      Event(
        actor: "faults[\(getpid())]", kind: .reapply, action: "reapply", targets: targets.map(\.name).sorted(),
        instances: targets.map(\.name).sorted()))
  }

}

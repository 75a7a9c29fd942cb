import Foundation
import Manifest

extension ProcessDriver {
  /// The record is read once, with the instance's lock held (a start of a
  /// loopback instance this process has seen needs nothing before it).
  public func start(id: String) async throws {
    let fixture: String
    if let known = registry.known(id), known.mode == .loopback {
      fixture = known.fixture
    } else {
      let r = try record(id)
      fixture = r.fixture
      if r.mode == .namespaces, let ns = r.namespace,
        r.wired != true || !FileManager.default.fileExists(atPath: Namespaces.path(namespace: ns))
      {
        // Half-wired by a killed cthulhu, or gone since (a reboot, `ip netns del`): wire it again.
        guard let net = registry.network(fixture: r.fixture) else { throw DriverError.notFound("network \(r.spec.network) not found") }
        try await wire(r, net)
      }
    }
    let spawned: (pid: Int32, namespace: String?)? = try registry.locked(instance: id, of: fixture) {
      guard var r = registry.instance(id: id) else { throw DriverError.notFound("no such instance: \(id)") }
      // A start cut short by a killed cthulhu: its process is adopted, as a look would.
      if r.spawning != nil { r = try adoptLocked(r) }
      if let pid = r.pid, let start = r.startTime {
        switch ProcFS.liveness(pid: pid, startTime: start) {
        case .running, .paused: return nil  // already started, as Docker's 304
        case .zombie, .gone:
          _ = ProcFS.reap(pid)  // a zombie child of this very process (a test runner, say)
          Self.killLeftovers(pid: pid, startTime: start)
        }
      }
      r.spawning = Date()
      try registry.save(r)
      let pid: Int32
      do { pid = try spawn(r) } catch {
        r.spawning = nil
        try? registry.save(r)
        throw error
      }
      r.spawning = nil
      r.pid = pid
      r.startTime = ProcStat.read(pid)?.startTime ?? 0
      r.startedAt = Date()
      r.finishedAt = nil
      r.exitCode = nil
      r.health = r.spec.healthcheck == nil ? nil : .starting
      try registry.save(r)
      return (pid, r.mode == .namespaces ? r.namespace : nil)
    }
    if let spawned, let ns = spawned.namespace { await Self.awaitEntry(pid: spawned.pid, namespace: Namespaces.path(namespace: ns)) }
  }

  /// Waits (5 s at most) until process `pid` is in the network namespace at
  /// `namespace`: it is spawned as `nsenter --net=… -- command`, which joins
  /// the namespace a moment after the spawn, and a started instance is one
  /// in its own network (a fault or a look at `/proc/<pid>/ns/net` right
  /// after the start finds it there). A process that ends first ends the
  /// wait; what it said is in its log, and apply's settle check reports it.
  static func awaitEntry(pid: Int32, namespace: String) async {
    var want = stat()
    guard stat(namespace, &want) == 0 else { return }
    let deadline = ContinuousClock.now + .seconds(5)
    var pause = Duration.microseconds(200)
    while ContinuousClock.now < deadline {
      var now = stat()
      guard stat("/proc/\(pid)/ns/net", &now) == 0 else { return }  // gone
      if now.st_ino == want.st_ino && now.st_dev == want.st_dev { return }
      if ProcStat.read(pid)?.state == "Z" { return }
      try? await Task.sleep(for: pause)
      pause = min(pause * 2, .milliseconds(20))
    }
  }

  /// Spawns the instance's command, detached, its output appended to its log.
  private func spawn(_ r: ProcessInstance) throws -> Int32 {
    let parent = (r.log as NSString).deletingLastPathComponent
    try? FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    let log = try openLog(r)
    defer { close(log) }
    var cwd = r.cwd
    var isDir: ObjCBool = false
    if !FileManager.default.fileExists(atPath: cwd, isDirectory: &isDir) || !isDir.boolValue { cwd = "/" }
    ClockSkew.makeShared(env: r.env, uid: r.userSwitch?.uid, gid: r.userSwitch?.gid)
    do {
      return try Spawner.spawn(r.argv, env: r.env, cwd: cwd, streams: .init(stdin: nil, stdout: log, stderr: log))
    } catch let e as DriverError {
      throw DriverError(e.code, "instance \(r.name): \(e.message)")
    }
  }

  /// The instance's log, opened to append, given to its user. The log may
  /// lie in a folder the instance owns, so what is there is never trusted:
  /// a link is not followed (O_NOFOLLOW), a FIFO cannot block the open
  /// (O_NONBLOCK), and anything but a regular file with one name (a hard
  /// link's other name may be outside) is refused rather than given away.
  private func openLog(_ r: ProcessInstance) throws -> Int32 {
    let fail = { (why: String) in DriverError(.unsupported, "instance \(r.name): cannot open its log \(r.log): \(why)") }
    let log = open(r.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
    guard log >= 0 else { throw fail(String(cString: strerror(errno))) }
    var st = stat()
    guard fstat(log, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink == 1 else {
      close(log)
      throw fail("it is not a regular file with a single name")
    }
    _ = fcntl(log, F_SETFL, O_WRONLY | O_APPEND)
    if let u = r.userSwitch, st.st_uid != u.uid || st.st_gid != u.gid, fchown(log, u.uid, u.gid) != 0 {
      let e = errno
      close(log)
      throw fail(String(cString: strerror(e)))
    }
    return log
  }

  public func stop(id: String, timeout: Int?) async throws {
    let r = try record(id)
    guard let pid = r.pid, let start = r.startTime else { return }
    let live = ProcFS.liveness(pid: pid, startTime: start)
    if live == .running || live == .paused {
      ProcFS.send(SIGTERM, to: -pid)
      if live == .paused { ProcFS.send(SIGCONT, to: -pid) }
      var (exited, code) = await Self.waitExit(pid: pid, startTime: start, within: .seconds(timeout ?? r.spec.stopTimeout ?? Self.defaultStopTimeout))
      if !exited {
        ProcFS.send(SIGKILL, to: -pid)
        (exited, code) = await Self.waitExit(pid: pid, startTime: start, within: .seconds(30))
        guard exited else { throw DriverError(.engine(status: 500), "instance \(r.name) (PID \(pid)) did not die after SIGKILL") }
      }
      Self.killLeftovers(pid: pid, startTime: start)
      try update(r) {
        $0.finishedAt = Date(); $0.exitCode = code
      }
    } else {
      _ = try settle(r)
    }
  }

  public func restart(id: String, timeout: Int?) async throws {
    try await stop(id: id, timeout: timeout)
    try await start(id: id)
  }

  public func kill(id: String, signal: String) async throws {
    guard let number = Signals.number(signal) else {
      throw DriverError(.unsupported, "unknown signal '\(signal)'; use a name such as \(Signals.common)")
    }
    let (r, pid, start) = try running(id, "kill")
    ProcFS.send(number, to: pid)
    guard number == SIGKILL else { return }
    // The first process is gone: so is the rest of the instance, as in Docker.
    ProcFS.send(SIGKILL, to: -pid)
    let (_, code) = await Self.waitExit(pid: pid, startTime: start, within: .seconds(10))
    try update(r) {
      $0.finishedAt = Date(); $0.exitCode = code
    }
  }

  public func pause(id: String) async throws {
    let (r, pid, start) = try running(id, "pause")
    if ProcFS.liveness(pid: pid, startTime: start) == .paused { throw DriverError.conflict("instance \(r.name) is already paused") }
    ProcFS.send(SIGSTOP, to: -pid)
    try await waitFor(.paused, r, pid: pid, start: start)
  }

  public func unpause(id: String) async throws {
    let (r, pid, start) = try running(id, "unpause")
    guard ProcFS.liveness(pid: pid, startTime: start) == .paused else { throw DriverError.conflict("instance \(r.name) is not paused") }
    ProcFS.send(SIGCONT, to: -pid)
    try await waitFor(.running, r, pid: pid, start: start)
  }

  /// The record and process of a running (or paused) instance; Docker's 409 otherwise.
  func running(_ id: String, _ verb: String) throws -> (ProcessInstance, Int32, UInt64) {
    let r = try record(id)
    guard let pid = r.pid, let start = r.startTime,
      [.running, .paused].contains(ProcFS.liveness(pid: pid, startTime: start))
    else { throw DriverError.conflict("cannot \(verb) instance \(r.name): it is not running") }
    return (r, pid, start)
  }

  /// Signals are delivered asynchronously: waits (1 s at most) until /proc
  /// shows the state, so the next look reports it.
  private func waitFor(_ wanted: Liveness, _ r: ProcessInstance, pid: Int32, start: UInt64) async throws {
    let deadline = ContinuousClock.now + .seconds(1)
    while ContinuousClock.now < deadline {
      let now = ProcFS.liveness(pid: pid, startTime: start)
      if now == wanted || now == .gone || now == .zombie { return }
      try await Task.sleep(for: .milliseconds(1))
    }
  }
}

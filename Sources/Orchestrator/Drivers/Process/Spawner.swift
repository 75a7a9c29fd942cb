import Foundation

/// Starts host programs with `posix_spawn`: instances detached in a session
/// of their own, and short commands (exec, health checks, `ip`) whose output
/// is collected. Never through a shell, never with an inherited descriptor
/// other than 0, 1 and 2.
enum Spawner {
  typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
  typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

  // glibc's GNU extensions, which the Swift Glibc module does not export.
  nonisolated(unsafe) private static let libc = dlopen(nil, RTLD_NOW)
  private static let addChdir = dlsym(libc, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: AddChdir.self) }
  private static let addClosefrom = dlsym(libc, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddClosefrom.self) }
  /// POSIX_SPAWN_SETSID (glibc 2.26): the child calls setsid(), so it leads a
  /// new session and process group (PGID = PID) and no terminal reaches it.
  static let setsid: Int16 = 0x80

  /// The standard streams of a spawned program: each a descriptor of this
  /// process to copy in, or nil for /dev/null.
  struct Streams {
    var stdin: Int32? = nil
    var stdout: Int32? = nil
    var stderr: Int32? = nil
  }

  /// Spawns `argv` (the first a path, or a name looked up on `PATH`) as the
  /// leader of a new session, in `cwd`, with exactly `env`. Returns its PID.
  static func spawn(_ argv: [String], env: [String], cwd: String?, streams: Streams) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for (target, source) in [(Int32(0), streams.stdin), (1, streams.stdout), (2, streams.stderr)] {
      if let source {
        posix_spawn_file_actions_adddup2(&actions, source, target)
      } else {
        posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
      }
    }
    if let cwd {
      guard let addChdir else {
        throw DriverError(.unsupported, "this C library cannot start a program in another folder (posix_spawn_file_actions_addchdir_np)")
      }
      _ = addChdir(&actions, cwd)
    }
    if let addClosefrom {
      _ = addClosefrom(&actions, 3)
    } else {
      // Older glibc: mark what is open now; descriptors cthulhu opens are O_CLOEXEC already.
      for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        if let fd = Int32(name), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      }
    }
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    // A clean signal state: a cthulhu that ignores SIGINT must not pass that on.
    posix_spawnattr_setflags(&attr, setsid | Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attr, &none)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigdefault(&attr, &all)
    let cargv = argv.map { strdup($0) } + [nil]
    let cenv = env.map { strdup($0) } + [nil]
    defer {
      cargv.forEach { free($0) }
      cenv.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawnp(&pid, argv[0], &actions, &attr, cargv, cenv)
    guard rc == 0 else {
      throw DriverError(.unsupported, "cannot start \(argv[0]): \(String(cString: strerror(rc)))")
    }
    return pid
  }

  struct Output: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: Data
    /// The deadline passed and the command's process group was killed.
    var timedOut = false
  }

  /// Runs `argv` to completion and collects its output. After `timeout` its
  /// whole process group is killed. Waits on a thread of its own, never on
  /// the cooperative pool.
  static func run(
    _ argv: [String], env: [String] = Spawner.inheritedEnvironment, cwd: String? = nil, input: Data? = nil,
    timeout: Duration? = nil
  ) async throws -> Output {
    var fds: [Int32] = []
    func closeAll() { for fd in fds { close(fd) } }
    // pipe2 is not exported to Swift: pipe, then close-on-exec (children get
    // only what a spawn dup2s, descriptors from 3 up are closed there anyway).
    func makePipe() throws -> (read: Int32, write: Int32) {
      var p: [Int32] = [-1, -1]
      guard pipe(&p) == 0 else {
        let e = errno
        closeAll()
        throw DriverError(.unsupported, "cannot make a pipe: \(String(cString: strerror(e)))")
      }
      for fd in p { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
      fds += p
      return (p[0], p[1])
    }
    let out = try makePipe()
    let err = try makePipe()
    // Input (iptables rules, `ip -batch`) comes from an unlinked file, not a
    // pipe: a child that exits without reading cannot SIGPIPE cthulhu.
    var inFile: Int32?
    if let input {
      var template = Array((NSTemporaryDirectory() + "/cthulhu-input-XXXXXX").utf8CString)
      let fd = mkstemp(&template)
      guard fd >= 0 else {
        closeAll()
        throw DriverError(.unsupported, "cannot make a temporary file: \(String(cString: strerror(errno)))")
      }
      unlink(template)
      _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
      fds.append(fd)
      _ = input.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      lseek(fd, 0, SEEK_SET)
      inFile = fd
    }
    let pid: Int32
    do {
      pid = try spawn(argv, env: env, cwd: cwd, streams: Streams(stdin: inFile, stdout: out.write, stderr: err.write))
    } catch {
      closeAll()
      throw error
    }
    close(out.write)
    close(err.write)
    if let inFile { close(inFile) }
    let deadline = timeout.map { ContinuousClock.now + $0 }
    return await withCheckedContinuation { cont in
      Thread.detachNewThread {
        cont.resume(returning: collect(pid: pid, out: out.read, err: err.read, deadline: deadline))
      }
    }
  }

  /// Reads both pipes until the child exits (what grandchildren still write
  /// after that is not waited for), then reaps it.
  private static func collect(pid: Int32, out: Int32, err: Int32, deadline: ContinuousClock.Instant?) -> Output {
    var result = Output(status: -1, stdout: Data(), stderr: Data())
    var fds = [pollfd(fd: out, events: Int16(POLLIN), revents: 0), pollfd(fd: err, events: Int16(POLLIN), revents: 0)]
    var open = 2
    var buf = [UInt8](repeating: 0, count: 65536)
    var exited: Int32?
    func drain(_ i: Int) -> Bool {
      let n = buf.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
      if n > 0 {
        if i == 0 { result.stdout.append(contentsOf: buf[..<n]) } else { result.stderr.append(contentsOf: buf[..<n]) }
        return true
      }
      if n < 0 && (errno == EINTR || errno == EAGAIN) { return true }
      fds[i].fd = -1
      open -= 1
      return false
    }
    while open > 0 {
      let wait: Int32 = exited == nil ? 20 : 0
      let n = poll(&fds, nfds_t(fds.count), wait)
      if let deadline, exited == nil, !result.timedOut, ContinuousClock.now > deadline {
        result.timedOut = true
        kill(-pid, SIGKILL)  // not reaped yet, so the PID is still this child's
      }
      if n > 0 {
        for i in fds.indices where fds[i].fd >= 0 && fds[i].revents != 0 { _ = drain(i) }
        continue
      }
      if exited != nil { break }  // exited and nothing more to read right now
      var status: Int32 = 0
      if waitpid(pid, &status, WNOHANG) == pid { exited = status }
    }
    if exited == nil {
      var status: Int32 = 0
      while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
      exited = status
    }
    close(out)
    close(err)
    let s = exited!
    result.status = s & 0x7f == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f)
    return result
  }

  /// This process's environment as `KEY=VALUE` lines.
  static var inheritedEnvironment: [String] {
    ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
  }
}

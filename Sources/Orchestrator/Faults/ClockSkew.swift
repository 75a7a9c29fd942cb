import Foundation
import Manifest

#if canImport(CPosix)
import CPosix
#endif

/// Clock skew per instance without touching the host's clock: the instances
/// of a group that says `clock_skew: true` start with libfaketime preloaded
/// (`LD_PRELOAD`), reading their offset from a timestamp file in the
/// instance folder (`<ip>/clock/faketime`) on every call
/// (`FAKETIME_NO_CACHE=1`), so `cthulhu clock skew` takes hold at once while
/// the instance runs. Only the wall clock moves (`CLOCK_REALTIME`, `time()`,
/// `gettimeofday`): `FAKETIME_DONT_FAKE_MONOTONIC=1` leaves the monotonic
/// clocks alone, as a host whose NTP is off would (timers, `sleep`, Swift's
/// `ContinuousClock` keep their pace). A missing or empty file means no skew.
///
/// It needs a dynamically linked program with a glibc loader: a static
/// binary (busybox-static, most Go programs) never runs the preload.
public enum ClockSkew {
  /// Where the library is looked for on this machine (Debian's multiarch
  /// folders first). The thread-safe build: instances are usually threaded.
  static let libraryName = "libfaketimeMT.so.1"
  static let searchFolders = [
    "/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime",
    "/usr/local/lib/faketime", "/usr/lib64/faketime",
  ]

  /// The library on this machine, or nil when libfaketime is not installed.
  public static func library() -> String? {
    if let given = ProcessInfo.processInfo.environment["CTHULHU_FAKETIME_LIBRARY"], !given.isEmpty {
      return FileManager.default.fileExists(atPath: given) ? given : nil
    }
    return searchFolders.map { "\($0)/\(libraryName)" }.first { FileManager.default.fileExists(atPath: $0) }
  }

  /// The folder, inside a container, where the library and the clock folder are bound.
  static let containerLibrary = "/run/cthulhu-faketime/" + libraryName
  static let containerClock = "/run/cthulhu-clock"
  static let fileName = "faketime"
  /// In a container: libfaketime's semaphore and shared memory (see ``preload``).
  static let containerShared = "/cthulhu-faketime"
  static let sharedSemFile = "faketime.sem"
  static let sharedMemFile = "faketime.shm"

  /// Writes the two files a container's libfaketime uses as its semaphore
  /// (the bytes of a fresh POSIX semaphore of value 1, as `sem_open` makes
  /// them) and shared memory, unless they are there; they must exist before
  /// the container is created, or the engine would make folders there.
  static func makeSharedFiles(folder: String) throws {
    #if canImport(CPosix)
    let fm = FileManager.default
    let sem = folder + "/" + sharedSemFile
    let mem = folder + "/" + sharedMemFile
    if !fm.fileExists(atPath: sem) {
      // A name of its own per call: the instances of one apply are made in
      // parallel, and one call unlinking a name another is still reading
      // made that other fail (ENOENT).
      let name = "/cthulhu-faketime-new-\(getpid())-\(UUID().uuidString.prefix(8))"
      guard cthulhu_sem_create(name, 0o600, 1) == 0, let bytes = fm.contents(atPath: "/dev/shm/sem." + name.dropFirst()) else {
        throw OrchestratorError(.io, "\(sem): cannot make a semaphore for libfaketime (\(String(cString: strerror(errno))))")
      }
      _ = cthulhu_sem_unlink(name)
      try AtomicFile.write(bytes, to: sem, durable: false)
    }
    if !fm.fileExists(atPath: mem) { try AtomicFile.write(Data(count: 4096), to: mem, durable: false) }
    // Whoever the container runs as must be able to take the semaphore.
    for f in [sem, mem] { chmod(f, 0o666) }
    #endif
  }

  /// The folder that holds an instance's timestamp file.
  public static func folder(paths: FixturePaths, ip: IPv4Address) -> String { paths.instanceFolder(ip: ip) + "/clock" }

  /// What an instance's spec gains: the environment and (for a container)
  /// the two read-only binds. `library` is the host's libfaketime.
  static func preload(library: String, clockFolder: String, container: Bool, env: [String]) -> (env: [String], binds: [Bind]) {
    let lib = container ? containerLibrary : library
    let file = (container ? containerClock : clockFolder) + "/" + fileName
    // An LD_PRELOAD the manifest gave is kept, after libfaketime.
    var preload = lib
    var rest = env
    if let i = env.firstIndex(where: { $0.hasPrefix("LD_PRELOAD=") }) {
      preload += " " + env[i].dropFirst("LD_PRELOAD=".count)
      rest.remove(at: i)
    }
    var added = [
      "LD_PRELOAD=\(preload)", "FAKETIME_TIMESTAMP_FILE=\(file)", "FAKETIME_NO_CACHE=1", "FAKETIME_DONT_FAKE_MONOTONIC=1",
    ]
    // libfaketime keeps a semaphore and a shared memory object in /dev/shm,
    // named by the PID of the first process that loads it, and removes them
    // only at a clean exit (an instance stopped by a signal would leave them
    // on the host). Making them, it also sets FAKETIME_SHARED with setenv,
    // which moves `environ` off the initial stack, where the Swift runtime
    // finds a program's arguments when its standard library is linked in
    // statically: the demo's image lost its `--config`. So it is given a pair
    // that exists: on the host, made before each start and removed with the
    // instance; in a container, two files of the clock folder bound into its
    // /dev/shm (``makeSharedFiles(folder:)``).
    let name = container ? containerShared : "/cthulhu-faketime-" + Hashing.sha256(clockFolder).prefix(16)
    added.append("FAKETIME_SHARED=\(name) \(name)")
    let binds =
      container
      ? [
        Bind(host: library, container: containerLibrary, readOnly: true), Bind(host: clockFolder, container: containerClock, readOnly: true),
        Bind(host: clockFolder + "/" + sharedSemFile, container: "/dev/shm/sem." + containerShared.dropFirst()),
        Bind(host: clockFolder + "/" + sharedMemFile, container: "/dev/shm/" + containerShared.dropFirst()),
      ]
      : []
    return (rest + added, binds)
  }

  /// The semaphore and shared memory object an environment's FAKETIME_SHARED names.
  static func sharedNames(env: [String]) -> (sem: String, shm: String)? {
    guard let line = env.last(where: { $0.hasPrefix("FAKETIME_SHARED=") }) else { return nil }
    let parts = line.dropFirst("FAKETIME_SHARED=".count).split(separator: " ").map(String.init)
    guard parts.count == 2, parts.allSatisfy({ $0.hasPrefix("/cthulhu-faketime-") }) else { return nil }
    return (parts[0], parts[1])
  }

  /// Makes the pair FAKETIME_SHARED names, for the user the instance runs as
  /// (best effort: without it libfaketime makes its own, and still works).
  static func makeShared(env: [String], uid: UInt32?, gid: UInt32?) {
    #if canImport(CPosix)
    guard let (sem, shm) = sharedNames(env: env) else { return }
    _ = cthulhu_sem_create(sem, 0o600, 1)
    _ = cthulhu_shm_create(shm, 0o600, 4096)
    if let uid, let gid {
      _ = chown("/dev/shm/sem." + sem.dropFirst(), uid, gid)
      _ = chown("/dev/shm/" + shm.dropFirst(), uid, gid)
    }
    #endif
  }

  /// Removes the pair FAKETIME_SHARED names (the instance is gone).
  static func removeShared(env: [String]) {
    #if canImport(CPosix)
    guard let (sem, shm) = sharedNames(env: env) else { return }
    _ = cthulhu_sem_unlink(sem)
    _ = cthulhu_shm_unlink(shm)
    #endif
  }

  /// `+5s`, `-250ms`, `1m`, `+1.5h` → seconds (a sign is optional).
  public static func parse(_ text: String) -> Double? {
    var t = Substring(text.trimmingCharacters(in: .whitespaces))
    var sign = 1.0
    if t.first == "+" {
      t = t.dropFirst()
    } else if t.first == "-" {
      sign = -1
      t = t.dropFirst()
    }
    guard !t.isEmpty, !t.hasPrefix("+"), !t.hasPrefix("-"), let ms = Units.duration(String(t))?.milliseconds else { return nil }
    let s = sign * ms / 1000
    guard s.isFinite, abs(s) < 100 * 365 * 86400 else { return nil }
    return s
  }

  /// Seconds as people read them, in the largest whole unit: `+5s`, `-90m`, `+1h`, `-250ms`, `+1.5s`.
  public static func text(_ seconds: Double) -> String {
    let a = abs(seconds)
    let sign = seconds < 0 ? "-" : "+"
    for (unit, size) in [("h", 3600.0), ("m", 60)] where a >= size && (a / size).rounded() == a / size {
      return sign + Fault.number(a / size) + unit
    }
    if a > 0, a < 1, (a * 1000).rounded() == a * 1000 { return sign + Fault.number(a * 1000) + "ms" }
    return sign + Fault.number(a) + "s"
  }

  /// The timestamp file's line: libfaketime's relative offset in seconds.
  static func fileLine(_ seconds: Double) -> String {
    (seconds < 0 ? "-" : "+") + String(format: "%.6f", abs(seconds)) + "\n"
  }

  /// The offset of every skewed instance in `book` (the later fault wins).
  static func offsets(book: FaultBook) -> [String: Double] {
    var out: [String: Double] = [:]
    for f in book.faults where f.kind == .clock {
      for t in f.targets { out[t] = f.skewSeconds ?? 0 }
    }
    return out
  }

  /// Writes (or, for no skew, removes) the timestamp file of each instance.
  static func write(_ offsets: [String: Double?], state: FixtureState) throws {
    let paths = FixturePaths(root: state.root)
    for r in state.instances {
      guard let entry = offsets[r.name] else { continue }
      let dir = folder(paths: paths, ip: r.ip)
      let file = dir + "/" + fileName
      if let s = entry, s != 0 {
        try FixtureWriter(paths: paths).makeFolder(dir)
        try AtomicFile.write(Data(fileLine(s).utf8), to: file, durable: false)
      } else if FileManager.default.fileExists(atPath: file) {
        try FileManager.default.removeItem(atPath: file)
      }
    }
  }

  /// Why the instance whose main process is `pid` cannot have its clock
  /// skewed, or nil when libfaketime is loaded in it or a process it started.
  static func refusal(instance: String, pid: Int32) -> String? {
    var seen: Set<Int32> = []
    var queue = [pid]
    while let p = queue.popLast(), seen.count < 64 {
      guard seen.insert(p).inserted else { continue }
      if let maps = ProcFile.text("/proc/\(p)/maps"), maps.contains("libfaketime") { return nil }
      queue += children(of: p)
    }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? "its program"
    if let dynamic = ELF.isDynamic(path: "/proc/\(pid)/exe"), !dynamic {
      return
        "\(instance): its program \(exe) is statically linked, so libfaketime cannot be preloaded into it and its clock cannot be skewed (a dynamically linked program with a glibc loader is needed)"
    }
    return
      "\(instance): libfaketime is not loaded in its program \(exe) (the loader ignored LD_PRELOAD: a static binary, an image without a glibc loader, or a library it lacks; see its log), so its clock cannot be skewed"
  }

  /// A /proc file read to its end (they report no size, and a large one comes in pieces).

  static func children(of pid: Int32) -> [Int32] {
    let text = ProcFile.text("/proc/\(pid)/task/\(pid)/children") ?? ""
    return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
  }
}

/// Just enough of an ELF header to tell a static program from a dynamic one.
enum ELF {
  /// true: it has a program interpreter (PT_INTERP); false: static; nil: not ELF or unreadable.
  static func isDynamic(path: String) -> Bool? {
    guard let h = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? h.close() }
    guard let head = try? h.read(upToCount: 64), head.count == 64, head.prefix(4) == Data([0x7f, 0x45, 0x4c, 0x46]) else { return nil }
    let b = [UInt8](head)
    let is64 = b[4] == 2
    guard b[5] == 1 else { return nil }  // little-endian only
    func u(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) } }
    let phoff = is64 ? u(0x20, 8) : u(0x1c, 4)
    let phentsize = is64 ? u(0x36, 2) : u(0x2a, 2)
    let phnum = is64 ? u(0x38, 2) : u(0x2c, 2)
    guard phentsize > 0, phnum < 4096 else { return nil }
    do {
      try h.seek(toOffset: UInt64(phoff))
      guard let table = try h.read(upToCount: phentsize * phnum), table.count == phentsize * phnum else { return nil }
      let t = [UInt8](table)
      for k in 0..<phnum {
        let type = (0..<4).reduce(0) { $0 | Int(t[k * phentsize + $1]) << (8 * $1) }
        if type == 3 { return true }  // PT_INTERP
      }
      return false
    } catch {
      return nil
    }
  }
}

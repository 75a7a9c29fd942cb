import Foundation
import Manifest
import Synchronization

/// The process driver's records on disk: one folder per fixture holding
/// `network.json`, one `<id>.json` per instance and a name index (`names/`,
/// see ``holder(ofName:fixture:)``), each record written atomically (temp
/// file, rename), so a cthulhu killed at any point leaves whole records
/// behind. Changes to a fixture's records are serialised by `flock` on its
/// `.lock` file, across processes.
///
/// Records are not fsync'd: a killed cthulhu loses nothing the kernel
/// holds, and what a power loss could take, the processes the records
/// describe do not survive either (the registry is meant to live in a
/// tmpfs such as /run, which a reboot empties). An fsync per record cost
/// more than all else a process start does.
///
/// Location, first that applies: `$CTHULHU_PROCESS_REGISTRY`; as root
/// `/run/cthulhu/process`; `$XDG_RUNTIME_DIR/cthulhu/process`;
/// `/tmp/cthulhu-<uid>/process`. It lives as long as the processes do
/// (until reboot), and root's and each user's are separate.
struct ProcessRegistry: Sendable {
  let folder: String
  /// The fixture and network mode of each instance id seen by this
  /// process: neither ever changes for an id, so ``instance(id:)`` reads one
  /// file instead of trying every fixture's folder.
  private let seen = IDCache()

  init(folder: String) { self.folder = folder }

  static func folder(environment: [String: String]) -> String {
    if let f = environment["CTHULHU_PROCESS_REGISTRY"], !f.isEmpty { return f }
    if geteuid() == 0 { return "/run/cthulhu/process" }
    if let run = environment["XDG_RUNTIME_DIR"], !run.isEmpty, access(run, W_OK) == 0 { return run + "/cthulhu/process" }
    return "/tmp/cthulhu-\(geteuid())/process"
  }

  /// A fixture's folder. A name that is not a fixture name (a forged
  /// state's, say) maps to a folder that cannot exist, never to a path elsewhere.
  func fixtureFolder(_ fixture: String) -> String {
    folder + "/" + (Names.isFixture(fixture) ? fixture : ".invalid-fixture-name")
  }

  /// Runs `body` holding the fixture's lock (created with its folder). Not
  /// re-entrant (a second `flock` from this process would wait for itself),
  /// and `body` is synchronous: no task ever waits for the lock while its
  /// holder is suspended.
  func locked<T>(_ fixture: String, _ body: () throws -> T) throws -> T {
    let dir = fixtureFolder(fixture)
    try makeFolders(dir)
    let fd = open(dir + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.ioError(dir + "/.lock", errno) }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else { throw Self.ioError(dir + "/.lock", errno) }
    }
    return try body()
  }

  /// Runs `body` holding one instance's lock, so a change to its record
  /// (a start, an exit noticed, a removal) is serialised across processes
  /// while other instances of the fixture go on: with the fixture's lock
  /// alone, every start of an apply waited for the others' spawns.
  ///
  /// The lock is one byte of the fixture's `.lock` file, at an offset taken
  /// from the id, held with an open file description lock (`fcntl`
  /// `F_OFD_SETLKW`): per descriptor, so threads of one process exclude each
  /// other too, and independent of the fixture's `flock`. (Two ids that
  /// share an offset only wait for each other.) Lock order: an instance's,
  /// then its fixture's, never the other way. Not re-entrant; `body` is
  /// synchronous, as for ``locked(_:_:)``.
  func locked<T>(instance id: String, of fixture: String, _ body: () throws -> T) throws -> T {
    let dir = fixtureFolder(fixture)
    try makeFolders(dir)
    let fd = open(dir + "/.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw Self.ioError(dir + "/.lock", errno) }
    defer { close(fd) }  // (closing the descriptor lets go of the lock)
    var range = Glibc.flock()
    range.l_type = Int16(F_WRLCK)
    range.l_whence = Int16(SEEK_SET)
    range.l_start = Self.lockOffset(id)
    range.l_len = 1
    while fcntl(fd, Self.ofdSetLockWait, &range) != 0 {
      guard errno == EINTR else { throw Self.ioError(dir + "/.lock", errno) }
    }
    return try body()
  }

  /// `F_OFD_SETLKW` (Linux ≥ 3.15); Glibc exports it only under `_GNU_SOURCE`.
  private static let ofdSetLockWait: Int32 = 38

  /// 1 + the id's first 15 hex digits: a byte offset below 2⁶⁰.
  static func lockOffset(_ id: String) -> Int {
    1 + (Int(id.prefix(15), radix: 16) ?? 0)
  }

  private func makeFolders(_ dir: String) throws {
    guard !FileManager.default.fileExists(atPath: dir) else { return }
    do {
      // Private: records hold environments.
      try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw DriverError(.engineUnavailable, "cannot make the process driver's registry \(dir): \(error.localizedDescription)")
    }
  }

  static func ioError(_ path: String, _ e: Int32) -> DriverError {
    DriverError(.engineUnavailable, "process driver registry \(path): \(String(cString: strerror(e)))")
  }

  // MARK: - Fixtures

  /// Names of the fixtures that have a folder.
  func fixtures() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter(Names.isFixture).sorted()
  }

  /// Drops a fixture's folder once it holds no record (its name index and
  /// lock go with it, and the temporary files of writers killed mid-write).
  func removeFixtureIfEmpty(_ fixture: String) {
    let dir = fixtureFolder(fixture)
    let left = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
      $0 != ".lock" && $0 != Self.namesFolder && $0 != Self.namesBuilding
    }
    let abandoned = left.filter(Self.isAbandonedTemporary)
    guard left.count == abandoned.count, Names.isFixture(fixture) else { return }
    for name in abandoned { unlink(dir + "/" + name) }
    Self.removeFlatFolder(dir + "/" + Self.namesFolder)
    Self.removeFlatFolder(dir + "/" + Self.namesBuilding)
    unlink(dir + "/.lock")
    rmdir(dir)
  }

  /// A record's temporary file (`.<name>.tmp-<pid>`, see ``Folder/write(_:_:mode:owner:durable:)``) whose
  /// writer is gone: a cthulhu killed between its write and its rename.
  static func isAbandonedTemporary(_ name: String) -> Bool {
    guard let r = name.range(of: ".tmp-", options: .backwards), let pid = Int32(name[r.upperBound...]), pid > 0 else { return false }
    return pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH)
  }

  // MARK: - Instances

  /// Every instance record of the fixture (each decoded: once per listing,
  /// not per step; on every core, as decoding is most of a listing's time).
  func instances(fixture: String) -> [ProcessInstance] {
    let dir = fixtureFolder(fixture)
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".json") && $0 != "network.json" }
    var decoded = [ProcessInstance?](repeating: nil, count: files.count)
    let lanes = min(ProcessInfo.processInfo.activeProcessorCount, files.count / 64 + 1)
    decoded.withUnsafeMutableBufferPointer { buffer in
      // (Each lane writes its own elements of the buffer, and only those.)
      nonisolated(unsafe) let out = buffer
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        for i in stride(from: lane, to: files.count, by: lanes) { out[i] = Self.decode(ProcessInstance.self, dir + "/" + files[i]) }
      }
    }
    let records = decoded.compactMap { $0 }.sorted { $0.name < $1.name }
    seen.remember(records)
    return records
  }

  /// The instance with this id, in whichever fixture holds it.
  func instance(id: String) -> ProcessInstance? {
    guard Self.isID(id) else { return nil }
    if let f = seen[id]?.fixture { return Self.decode(ProcessInstance.self, fixtureFolder(f) + "/\(id).json") }
    for f in fixtures() {
      if let r = Self.decode(ProcessInstance.self, fixtureFolder(f) + "/\(id).json") {
        seen.remember([r])
        return r
      }
    }
    return nil
  }

  /// The fixture and network mode of an id this process has seen, without reading its record.
  func known(_ id: String) -> (fixture: String, mode: NetworkMode)? { seen[id] }

  func save(_ r: ProcessInstance) throws {
    try makeFolders(fixtureFolder(r.fixture))
    try write(r, to: fixtureFolder(r.fixture) + "/\(r.id).json")
    seen.remember([r])
  }

  /// Drops the record, then its name (with the fixture's lock held).
  func delete(_ r: ProcessInstance) {
    unlink(fixtureFolder(r.fixture) + "/\(r.id).json")
    let link = nameLink(r.name, fixture: r.fixture)
    if Self.readLink(link) == r.id { unlink(link) }
  }

  // MARK: - Names

  static let namesFolder = "names"
  static let namesBuilding = ".names-building"

  /// `<fixture>/names/<sha256 of the name>`: a symbolic link whose target
  /// is the id of the record holding that name (a hash, so any name makes
  /// one safe file name).
  private func nameLink(_ name: String, fixture: String) -> String {
    fixtureFolder(fixture) + "/" + Self.namesFolder + "/" + Hashing.sha256(name)
  }

  /// The id of the record that holds `name` in the fixture, if any (with
  /// the fixture's lock held): one link and one `stat`, where decoding
  /// every record made each create O(N) and an apply O(N²).
  ///
  /// A name is claimed before its record is written and released after
  /// the record is removed, so a crash leaves at most a link to a record
  /// that is gone, which counts as free. A fixture folder written by an
  /// earlier cthulhu has no index: it is built from the records first, once.
  func holder(ofName name: String, fixture: String) throws -> String? {
    try ensureNameIndex(fixture)
    guard let id = Self.readLink(nameLink(name, fixture: fixture)), Self.isID(id) else { return nil }
    var st = stat()
    return stat(fixtureFolder(fixture) + "/\(id).json", &st) == 0 ? id : nil
  }

  /// Records that `id` holds `name` (with the fixture's lock held, after
  /// ``holder(ofName:fixture:)`` said it was free).
  func claim(name: String, id: String, fixture: String) throws {
    let link = nameLink(name, fixture: fixture)
    unlink(link)  // a stale claim (its record is gone)
    guard symlink(id, link) == 0 else { throw Self.ioError(link, errno) }
  }

  /// Builds `names/` from the records when it is missing: in a folder of
  /// its own, renamed into place when whole.
  private func ensureNameIndex(_ fixture: String) throws {
    let dir = fixtureFolder(fixture)
    let names = dir + "/" + Self.namesFolder
    var st = stat()
    if lstat(names, &st) == 0 { return }
    let building = dir + "/" + Self.namesBuilding
    Self.removeFlatFolder(building)
    guard mkdir(building, 0o700) == 0 else { throw Self.ioError(building, errno) }
    for r in instances(fixture: fixture) {
      // (Two records with one name, which no cthulhu makes: the first keeps it.)
      _ = symlink(r.id, building + "/" + Hashing.sha256(r.name))
    }
    guard rename(building, names) == 0 else { throw Self.ioError(names, errno) }
  }

  private static func readLink(_ path: String) -> String? {
    var buf = [CChar](repeating: 0, count: 256)
    let n = readlink(path, &buf, buf.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Removes a folder of plain entries (links) and the folder.
  private static func removeFlatFolder(_ path: String) {
    for e in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] { unlink(path + "/" + e) }
    rmdir(path)
  }

  // MARK: - Networks

  func network(fixture: String) -> ProcessNetwork? {
    Self.decode(ProcessNetwork.self, fixtureFolder(fixture) + "/network.json")
  }

  func networks() -> [ProcessNetwork] { fixtures().compactMap(network(fixture:)) }

  func save(_ n: ProcessNetwork) throws {
    try makeFolders(fixtureFolder(n.fixture))
    try write(n, to: fixtureFolder(n.fixture) + "/network.json")
  }

  func delete(_ n: ProcessNetwork) {
    unlink(fixtureFolder(n.fixture) + "/network.json")
  }

  // MARK: - Files

  static func isID(_ s: String) -> Bool { s.count == 64 && s.allSatisfy(\.isHexDigit) }

  static func newID() -> String {
    Hashing.sha256("\(UUID().uuidString) \(getpid()) \(Date().timeIntervalSince1970)")
  }

  /// Times as seconds with a fraction: health checks run every few hundred
  /// milliseconds, and ISO 8601 as the state file writes it keeps whole seconds.
  /// Compact (not pretty-printed): a start writes its record twice and
  /// reads it three times, and nobody edits these files by hand.
  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .secondsSince1970
    return e
  }()
  static let decoder: JSONDecoder = {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .secondsSince1970
    return d
  }()

  private func write<T: Encodable>(_ value: T, to path: String) throws {
    do {
      try AtomicFile.write(try Self.encoder.encode(value), to: path, mode: 0o600, durable: false)
    } catch let e as OrchestratorError {
      throw DriverError(.engineUnavailable, "process driver registry: \(e)")
    }
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? decoder.decode(type, from: data)
  }
}

/// Instance id → its fixture and network mode, as this process has seen them.
private final class IDCache: Sendable {
  private let map = Mutex<[String: (fixture: String, mode: NetworkMode)]>([:])

  subscript(id: String) -> (fixture: String, mode: NetworkMode)? { map.withLock { $0[id] } }

  func remember(_ records: [ProcessInstance]) {
    map.withLock { m in for r in records { m[r.id] = (r.fixture, r.mode) } }
  }
}

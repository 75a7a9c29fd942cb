import Foundation
import Manifest

/// The process driver's records on disk: one folder per fixture holding
/// `network.json` and one `<id>.json` per instance, each written atomically
/// (temp file, fsync, rename), so a cthulhu killed at any point leaves
/// whole records behind. Changes to a fixture's records are serialised by
/// `flock` on its `.lock` file, across processes.
///
/// Location, first that applies: `$CTHULHU_PROCESS_REGISTRY`; as root
/// `/run/cthulhu/process`; `$XDG_RUNTIME_DIR/cthulhu/process`;
/// `/tmp/cthulhu-<uid>/process`. It lives as long as the processes do
/// (until reboot), and root's and each user's are separate.
struct ProcessRegistry: Sendable {
  let folder: String

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

  /// Drops a fixture's folder once it holds no record.
  func removeFixtureIfEmpty(_ fixture: String) {
    let dir = fixtureFolder(fixture)
    let left = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0 != ".lock" }
    guard left.isEmpty, Names.isFixture(fixture) else { return }
    unlink(dir + "/.lock")
    rmdir(dir)
  }

  // MARK: - Instances

  func instances(fixture: String) -> [ProcessInstance] {
    let dir = fixtureFolder(fixture)
    let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    return files.filter { $0.hasSuffix(".json") && $0 != "network.json" }.compactMap {
      Self.decode(ProcessInstance.self, dir + "/" + $0)
    }.sorted { $0.name < $1.name }
  }

  /// The instance with this id, in whichever fixture holds it.
  func instance(id: String) -> ProcessInstance? {
    guard Self.isID(id) else { return nil }
    for f in fixtures() {
      if let r = Self.decode(ProcessInstance.self, fixtureFolder(f) + "/\(id).json") { return r }
    }
    return nil
  }

  func save(_ r: ProcessInstance) throws {
    try makeFolders(fixtureFolder(r.fixture))
    try write(r, to: fixtureFolder(r.fixture) + "/\(r.id).json")
  }

  func delete(_ r: ProcessInstance) {
    unlink(fixtureFolder(r.fixture) + "/\(r.id).json")
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
  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
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
      try AtomicFile.write(try Self.encoder.encode(value), to: path, mode: 0o600)
    } catch let e as OrchestratorError {
      throw DriverError(.engineUnavailable, "process driver registry: \(e)")
    }
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return try? decoder.decode(type, from: data)
  }
}

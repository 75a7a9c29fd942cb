import Foundation
import Manifest

/// What `apply` last made, kept in `<root>/.cthulhu/state.json`. It is the
/// memory behind sticky identity (names and addresses) and the record that
/// lets `destroy` work after the manifest was edited or deleted.
public struct FixtureState: Codable, Sendable, Hashable {
  public static let currentVersion = 1
  public var formatVersion: Int = Self.currentVersion
  public var fixture: String
  public var root: String
  public var driver: DriverKind
  public var manifest: String?
  public var subnet: IPv4Network?
  public var networkID: String?
  /// Image tags cthulhu built for this fixture.
  public var builtImages: [String] = []
  public var instances: [InstanceRecord] = []
  /// Absolute path of the cthulhu binary that last applied (control shims call it).
  public var binary: String?
  public var updatedAt: Date?
  /// `apply --ttl`: the fixture destroys itself this long after the last apply.
  public var ttlSeconds: Double?
  public var expiresAt: Date?
  /// The detached reaper that will destroy the fixture at `expiresAt`.
  public var ttlReaperPID: Int32?

  public init(fixture: String, root: String, driver: DriverKind) {
    self.fixture = fixture
    self.root = root
    self.driver = driver
  }

  public func instance(named name: String) -> InstanceRecord? { instances.first { $0.name == name } }

  mutating func upsert(_ record: InstanceRecord) {
    if let i = instances.firstIndex(where: { $0.name == record.name }) {
      instances[i] = record
    } else {
      instances.append(record)
      instances.sort { (InstanceName.ordinal($0.name) ?? 0) < (InstanceName.ordinal($1.name) ?? 0) }
    }
  }

  mutating func removeInstance(_ name: String) { instances.removeAll { $0.name == name } }
}

public struct InstanceRecord: Codable, Sendable, Hashable {
  public var name: String
  public var group: String
  public var ip: IPv4Address
  public var containerID: String?
  public var specHash: String?
  public var filesHash: String?
  /// sha256 of each written file, by path below `bindmounts/`.
  public var files: [String: String] = [:]
  public var ports: [PortBinding] = []
  /// The container spec it was created from (for reasons in later plans).
  public var spec: ContainerSpec?
  /// Who it runs as (for `status`; nil: Docker's image default).
  public var runAs: RunAs?
}

extension FixtureState {
  static func path(root: String) -> String { root + "/.cthulhu/state.json" }

  /// Reads the state of the fixture at `root`; nil when there is none.
  public static func load(root: String) throws -> FixtureState? {
    let p = path(root: root)
    guard let data = FileManager.default.contents(atPath: p) else { return nil }
    do {
      return try JSONDecoder.cthulhu.decode(FixtureState.self, from: data)
    } catch {
      throw OrchestratorError.corruptState(path: p, reason: "\(error)")
    }
  }

  /// Reads the state of the fixture at `root`; an error that says so when there is none.
  public static func require(root: String) throws -> FixtureState {
    guard let s = try load(root: root) else {
      throw OrchestratorError(.noFixture, "\(root) holds no cthulhu fixture (no .cthulhu/state.json); run `cthulhu apply` first")
    }
    return s
  }

  /// Writes atomically: temp file, fsync, rename.
  func save() throws {
    try FileManager.default.createDirectory(atPath: root + "/.cthulhu", withIntermediateDirectories: true)
    try AtomicFile.write(try JSONEncoder.cthulhu.encode(self), to: Self.path(root: root))
  }
}

extension JSONEncoder {
  static var cthulhu: JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    return e
  }
}

extension JSONDecoder {
  static var cthulhu: JSONDecoder {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .iso8601
    return d
  }
}

enum AtomicFile {
  /// Write, fsync, rename: a reader sees the old file or the new one, never a torn one.
  static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws {
    let tmp = path + ".tmp-\(getpid())"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode)
    guard fd >= 0 else { throw OrchestratorError.io(path: tmp, errno: errno) }
    var ok = data.withUnsafeBytes { buf -> Bool in
      var off = 0
      while off < buf.count {
        let n = Foundation.write(fd, buf.baseAddress! + off, buf.count - off)
        if n < 0 { if errno == EINTR { continue }; return false }
        off += n
      }
      return true
    }
    ok = ok && fsync(fd) == 0
    let err = errno
    close(fd)
    guard ok else { unlink(tmp); throw OrchestratorError.io(path: tmp, errno: err) }
    fchmodPath(tmp, mode)
    guard rename(tmp, path) == 0 else {
      let e = errno
      unlink(tmp)
      throw OrchestratorError.io(path: path, errno: e)
    }
  }

  private static func fchmodPath(_ p: String, _ mode: mode_t) { chmod(p, mode) }
}

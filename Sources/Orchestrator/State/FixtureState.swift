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
  /// `faults.via` of the manifest last applied (nil: `auto`): how fault
  /// commands, the `--for` reaper and restarts reach the namespaces.
  public var faultPath: FaultPath?
  /// Image tags cthulhu built for this fixture.
  public var builtImages: [String] = []
  /// One record per instance, sorted by ordinal (``upsert(_:)`` keeps them
  /// so, ``load(root:)`` restores it): look-ups are binary searches.
  public internal(set) var instances: [InstanceRecord] = []
  /// Absolute path of the cthulhu binary that last applied (control shims call it).
  public var binary: String?
  public var updatedAt: Date?
  /// `apply --ttl`: the fixture destroys itself this long after the last apply.
  public var ttlSeconds: Double?
  public var expiresAt: Date?
  /// The detached reaper that will destroy the fixture at `expiresAt`.
  public var ttlReaperPID: Int32?
  /// `apply` created the root folder: `destroy` removes it once it is empty.
  /// (A root that existed, empty, before the first apply is left in place.)
  public var createdRoot: Bool?
  /// The entries of the root folder cthulhu made (instance folders, links,
  /// `control`, `spec.json`, …), each recorded before it is made: `destroy`
  /// removes these and nothing else (besides `.cthulhu`). Sorted.
  public var entries: [String]?
  /// Members whose `join` committed before their instance was recorded (an
  /// apply interrupted, or a create that failed, right after the join): a
  /// later plan that no longer wants them has them leave again. Nil: none.
  public var unmadeMembers: [UnmadeMember]?
  /// While an apply runs: the journal that continues this snapshot (see
  /// ``StateJournal``); nil in a state written whole.
  var journal: String?

  public init(fixture: String, root: String, driver: DriverKind) {
    self.fixture = fixture
    self.root = root
    self.driver = driver
  }

  public func instance(named name: String) -> InstanceRecord? {
    guard let (i, found) = position(of: name), found else { return nil }
    return instances[i]
  }

  /// Where the record of `name` is, or would go, in `instances`; nil for a
  /// name that is not an instance name.
  private func position(of name: String) -> (Int, found: Bool)? {
    guard let n = InstanceName.ordinal(name) else { return nil }
    var lo = 0
    var hi = instances.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if (InstanceName.ordinal(instances[mid].name) ?? 0) < n { lo = mid + 1 } else { hi = mid }
    }
    return (lo, lo < instances.count && instances[lo].name == name)
  }

  mutating func upsert(_ record: InstanceRecord) {
    guard let (i, found) = position(of: record.name) else { return }
    if found { instances[i] = record } else { instances.insert(record, at: i) }
  }

  mutating func removeInstance(_ name: String) {
    guard let (i, found) = position(of: name), found else { return }
    instances.remove(at: i)
  }

  /// Records root entries as cthulhu's, before they are made.
  mutating func claim<S: Sequence>(_ names: S) where S.Element == String {
    var all = Set(entries ?? [])
    let before = all.count
    all.formUnion(names)
    if all.count != before || entries == nil { entries = all.sorted() }
  }

  /// Forgets root entries cthulhu removed.
  mutating func release(_ names: Set<String>) {
    entries?.removeAll { names.contains($0) }
  }

  /// The root's entries that are cthulhu's: the recorded ones, each
  /// instance's folder and link, and the fixture-wide files (a state written
  /// before entries were recorded still names these).
  public var ownedEntries: [String] {
    var all = Set(entries ?? [])
    all.formUnion(FixturePaths.fixtureFiles)
    for r in instances { all.insert(r.ip.description); all.insert(r.name) }
    return all.filter(SafeTree.isEntryName).sorted()
  }
}

/// A member of a group's cluster with no instance recorded (see ``FixtureState/unmadeMembers``).
public struct UnmadeMember: Codable, Sendable, Hashable {
  public var name: String
  public var group: String
  public var ip: IPv4Address
  public init(name: String, group: String, ip: IPv4Address) {
    self.name = name
    self.group = group
    self.ip = ip
  }
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
  /// How it came into its cluster (a group with `membership:`): its
  /// templates render from this in every later apply.
  public var membership: MemberContext?
}

extension FixtureState {
  static func path(root: String) -> String { root + "/.cthulhu/state.json" }

  /// Reads the state of the fixture at `root`, its journal replayed (see
  /// ``StateJournal``); nil when there is none.
  public static func load(root: String) throws -> FixtureState? { try read(root: root)?.state }

  /// The state, a digest of the bytes it was read from (the snapshot and
  /// its journal: what a plan's basis holds, instead of encoding the whole
  /// state again), and the stamp of those files (see ``StateStamp``).
  static func read(root: String) throws -> (state: FixtureState, digest: String, stamp: StateStamp)? {
    let p = path(root: root)
    var attempts = 0
    while true {
      attempts += 1
      guard let (data, snapshot) = try FileStamp.read(p) else { return nil }
      var state: FixtureState
      do {
        state = try JSONDecoder.cthulhu.decode(FixtureState.self, from: data)
      } catch {
        throw OrchestratorError.corruptState(path: p, reason: "\(error)")
      }
      try state.validate(path: p)
      try state.sortInstances(path: p)
      guard let id = state.journal else { return (state, Hashing.sha256(data), StateStamp(snapshot: snapshot)) }
      guard StateJournal.isID(id) else { throw OrchestratorError.corruptState(path: p, reason: "journal '\(id)' is not a journal id") }
      guard let (journal, journalStamp) = try FileStamp.read(StateJournal.path(root: root, id: id)) else {
        // An apply compacted the state between the two reads (this reader
        // holds no lock): the newer snapshot is whole. Or the journal was
        // never made (a crash right after the snapshot): it is empty.
        if attempts < 3, FileStamp.of(p) != snapshot { continue }
        return (state, Hashing.sha256(data), StateStamp(snapshot: snapshot, journalID: id))
      }
      StateJournal.replay(journal, onto: &state)
      try state.validate(path: p)
      return (state, Hashing.sha256(data + journal), StateStamp(snapshot: snapshot, journal: journalStamp, journalID: id))
    }
  }

  /// Sorts the records by ordinal when a file (written by hand, say) has
  /// them out of order; a name recorded twice makes the state unreadable.
  mutating func sortInstances(path p: String) throws {
    let ordinal = { (r: InstanceRecord) in InstanceName.ordinal(r.name) ?? 0 }
    if zip(instances, instances.dropFirst()).allSatisfy({ ordinal($0) < ordinal($1) }) { return }
    instances.sort { ordinal($0) < ordinal($1) }
    if let (a, _) = zip(instances, instances.dropFirst()).first(where: { ordinal($0) == ordinal($1) }) {
      throw OrchestratorError.corruptState(path: p, reason: "instance '\(a.name)' is recorded twice")
    }
  }

  /// A state file is input like any other: names that could mean a path
  /// other than the one cthulhu gives them are refused.
  func validate(path p: String) throws {
    guard formatVersion == Self.currentVersion else {
      throw OrchestratorError.corruptState(
        path: p, reason: "format version \(formatVersion); this cthulhu reads version \(Self.currentVersion)")
    }
    guard Names.isFixture(fixture) else { throw OrchestratorError.corruptState(path: p, reason: "fixture name '\(fixture)' is not a fixture name") }
    if let bad = instances.first(where: { InstanceName.ordinal($0.name) == nil || InstanceName.make(InstanceName.ordinal($0.name)!) != $0.name }) {
      throw OrchestratorError.corruptState(path: p, reason: "instance name '\(bad.name)' is not an instance name")
    }
    if let bad = (entries ?? []).first(where: { !SafeTree.isEntryName($0) }) {
      throw OrchestratorError.corruptState(path: p, reason: "entry '\(bad)' is not a single folder entry")
    }
  }

  /// Reads the state of the fixture at `root`; an error that says so when there is none.
  public static func require(root: String) throws -> FixtureState {
    guard let s = try load(root: root) else {
      throw OrchestratorError(.noFixture, "\(root) holds no cthulhu fixture (no .cthulhu/state.json); run `cthulhu apply` first")
    }
    return s
  }

  /// Writes the whole state atomically (temp file, fsync, rename), with no
  /// journal: one that an interrupted apply left is folded in already (the
  /// state was loaded with it) and is removed.
  func save() throws {
    var whole = self
    whole.journal = nil
    try whole.write()
    StateJournal.removeJournals(root: root, except: nil)
  }

  /// Writes this value as `state.json` (atomically), journal name and all.
  func write() throws {
    try FileManager.default.createDirectory(atPath: root + "/.cthulhu", withIntermediateDirectories: true)
    try AtomicFile.write(try encoded(), to: Self.path(root: root))
  }

  /// The bytes `JSONEncoder.cthulhu` gives for this state, its records
  /// encoded on every core and spliced into the rest: an apply writes the
  /// whole state twice (its first save and its compaction), and encoding
  /// 1,000 records on one core took longer than the rest of its end.
  /// (FixtureStateEncodingTests compares the bytes.)
  func encoded() throws -> Data {
    var header = self
    header.instances = []
    let head = try JSONEncoder.cthulhu.encode(header)
    let empty = Data("\n  \"instances\" : [\n\n  ]".utf8)
    guard instances.count >= 32, let at = head.range(of: empty) else { return try JSONEncoder.cthulhu.encode(self) }
    var records = [Result<Data, any Error>?](repeating: nil, count: instances.count)
    let lanes = min(ProcessInfo.processInfo.activeProcessorCount, instances.count / 32 + 1)
    let instances = instances
    records.withUnsafeMutableBufferPointer { buffer in
      // (Each lane writes its own elements of the buffer, and only those.)
      nonisolated(unsafe) let out = buffer
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        let encoder = JSONEncoder.cthulhu
        for i in stride(from: lane, to: instances.count, by: lanes) { out[i] = Result { try encoder.encode(instances[i]) } }
      }
    }
    // Each record one level of the array deeper: four more spaces after each
    // newline but the blank line of an empty array or object (JSON strings
    // hold no raw newline).
    var body = Data("\n  \"instances\" : [\n".utf8)
    let newline = UInt8(ascii: "\n")
    let indent = Data("    ".utf8)
    for (i, r) in records.enumerated() {
      let record = [UInt8](try r!.get())
      if i > 0 { body.append(contentsOf: Array(",\n".utf8)) }
      body.append(indent)
      for (j, b) in record.enumerated() {
        body.append(b)
        if b == newline, j + 1 < record.count, record[j + 1] != newline { body.append(indent) }
      }
    }
    body.append(contentsOf: Array("\n  ]".utf8))
    return head[..<at.lowerBound] + body + head[at.upperBound...]
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
  /// Not `durable`: no fsync, for files a killed cthulhu must not tear but
  /// a power loss may take (the next apply checks and rewrites them).
  /// The same writer as ``Folder/write(_:_:mode:owner:durable:)``, in the
  /// file's folder opened without following a link.
  static func write(_ data: Data, to path: String, mode: mode_t = 0o644, durable: Bool = true) throws {
    let folder = (path as NSString).deletingLastPathComponent
    try Folder(path: folder.isEmpty ? "." : folder).write((path as NSString).lastPathComponent, data, mode: mode, durable: durable)
  }
}

extension JSONEncoder {
  /// As ``cthulhu``, with times to the millisecond (`2026-12-02T14:19:13.250Z`),
  /// as `events.jsonl` has them: for records whose times are compared with its.
  static var cthulhuMilliseconds: JSONEncoder {
    let e = cthulhu
    e.dateEncodingStrategy = .custom { date, enc in
      var c = enc.singleValueContainer()
      try c.encode(TimeText.iso(date))
    }
    return e
  }
}

extension JSONDecoder {
  /// Reads times with milliseconds, or in whole seconds (as records written before them).
  static var cthulhuMilliseconds: JSONDecoder {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .custom { dec in
      let s = try dec.singleValueContainer().decode(String.self)
      if let t = TimeText.date(iso: s) { return t }
      throw DecodingError.dataCorrupted(.init(codingPath: dec.codingPath, debugDescription: "not an ISO 8601 time: \(s)"))
    }
    return d
  }
}

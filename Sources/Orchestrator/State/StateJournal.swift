import Foundation

/// One change to a fixture state, as a journal line holds it.
enum StateChange: Sendable, Hashable {
  /// Fixture-wide fields (everything but the instance records).
  case fixture(FixtureState)
  /// An instance record added or replaced.
  case upsert(InstanceRecord)
  /// An instance record dropped.
  case remove(String)

  func apply(to state: inout FixtureState) {
    switch self {
    case .fixture(var header):
      header.instances = state.instances
      header.journal = state.journal
      state = header
    case .upsert(let r): state.upsert(r)
    case .remove(let name): state.removeInstance(name)
    }
  }
}

extension StateChange: Codable {
  private enum CodingKeys: String, CodingKey { case fixture, upsert, remove }

  init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    guard c.allKeys.count == 1, let key = c.allKeys.first else {
      throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "a journal line holds exactly one change"))
    }
    switch key {
    case .fixture: self = .fixture(try c.decode(FixtureState.self, forKey: .fixture))
    case .upsert: self = .upsert(try c.decode(InstanceRecord.self, forKey: .upsert))
    case .remove: self = .remove(try c.decode(String.self, forKey: .remove))
    }
  }

  func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .fixture(var header):
      // The records travel as upserts: a header line stays small.
      header.instances = []
      header.journal = nil
      try c.encode(header, forKey: .fixture)
    case .upsert(let r): try c.encode(r, forKey: .upsert)
    case .remove(let name): try c.encode(name, forKey: .remove)
    }
  }
}

/// The append-only journal that continues a state snapshot during an apply.
///
/// Saving the whole state after every step made an apply of N instances
/// write O(N²) bytes (and the state had to stay durable after every step).
/// Instead, `state.json` is a snapshot that names its journal,
/// `.cthulhu/journal-<id>.jsonl`, and every change after it is one line
/// there: an upsert or a removal of one instance record, or the small
/// fixture-wide header. A line is appended with one `write` and made
/// durable with `fdatasync` before the change counts as saved, so each step
/// costs O(1) bytes and one sync (shared by the steps that finish together,
/// see ``StateStore``).
///
/// Loading reads the snapshot and replays its journal's complete lines in
/// order. A line without its newline, or one that does not decode, ends the
/// replay: only the last write, which was never acknowledged, can be torn
/// (everything before it was synced first). A journal is never appended to
/// after a crash: the next apply starts with a fresh snapshot and a new
/// journal id, so a torn tail is never followed by good lines.
///
/// Compaction writes the snapshot again with no journal (atomically: write,
/// fsync, rename) and removes the file; a crash between the two leaves a
/// journal that no snapshot names, which is ignored and removed later. Ids
/// are random, so a new snapshot never picks up an old file.
final class StateJournal: @unchecked Sendable {
  // (@unchecked: used only from ``StateStore``'s I/O queue, one call at a time.)
  let root: String
  private var fd: Int32 = -1
  private(set) var id: String?

  init(root: String) { self.root = root }
  deinit { if fd >= 0 { Foundation.close(fd) } }

  static func path(root: String, id: String) -> String { root + "/.cthulhu/journal-\(id).jsonl" }

  /// Journal ids are 16 hex digits; a state naming anything else is corrupt.
  static func isID(_ s: String) -> Bool { s.utf8.count == 16 && s.allSatisfy(\.isHexDigit) }

  /// Writes `snapshot` as the state, naming a new, empty journal, and opens
  /// that journal for appending. Any older journal is removed.
  func start(_ snapshot: FixtureState) throws {
    close()
    let id = String(Hashing.sha256("\(UUID().uuidString) \(getpid())").prefix(16))
    var s = snapshot
    s.journal = id
    try s.write()
    let p = Self.path(root: root, id: id)
    let fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw OrchestratorError.io(path: p, errno: errno) }
    self.fd = fd
    self.id = id
    // The journal's name must survive a power loss as its lines do.
    Self.syncFolder(root + "/.cthulhu")
    Self.removeJournals(root: root, except: id)
  }

  /// Appends lines (each ending in a newline) in one write, then syncs them.
  func append(_ lines: [Data]) throws {
    guard fd >= 0, let id else { throw OrchestratorError(.io, "\(root)/.cthulhu: the state journal is not open") }
    var buffer = Data()
    for l in lines { buffer.append(l) }
    let p = Self.path(root: root, id: id)
    let ok = buffer.withUnsafeBytes { buf -> Bool in
      var off = 0
      while off < buf.count {
        let n = write(fd, buf.baseAddress! + off, buf.count - off)
        if n < 0 { if errno == EINTR { continue }; return false }
        off += n
      }
      return true
    }
    guard ok, fdatasync(fd) == 0 else {
      let e = errno
      close()
      throw OrchestratorError.io(path: p, errno: e)
    }
  }

  /// Writes `snapshot` as the whole state, with no journal, and removes the journal.
  func finish(_ snapshot: FixtureState) throws {
    var s = snapshot
    s.journal = nil
    try s.write()
    close()
    Self.removeJournals(root: root, except: nil)
  }

  func close() {
    if fd >= 0 { Foundation.close(fd) }
    fd = -1
    id = nil
  }

  /// One line: the change as compact JSON (no newline inside: JSON escapes them) and a newline.
  static func line(_ change: StateChange) throws -> Data {
    var d = try encoder.encode(change)
    d.append(UInt8(ascii: "\n"))
    return d
  }

  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    e.dateEncodingStrategy = .iso8601
    return e
  }()

  /// Applies the journal's complete lines to `state`, in order, up to the
  /// first torn or undecodable one.
  static func replay(_ data: Data, onto state: inout FixtureState) {
    let decoder = JSONDecoder.cthulhu
    var start = data.startIndex
    while let nl = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
      guard let change = try? decoder.decode(StateChange.self, from: data[start..<nl]) else { return }
      change.apply(to: &state)
      start = data.index(after: nl)
    }
  }

  /// Removes `journal-*.jsonl` files of the state folder other than `except`'s.
  static func removeJournals(root: String, except id: String?) {
    let folder = root + "/.cthulhu"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    where name.hasPrefix("journal-") && name.hasSuffix(".jsonl") && name != id.map({ "journal-\($0).jsonl" }) {
      unlink(folder + "/" + name)
    }
  }

  static func syncFolder(_ path: String) {
    let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    Foundation.close(fd)
  }
}

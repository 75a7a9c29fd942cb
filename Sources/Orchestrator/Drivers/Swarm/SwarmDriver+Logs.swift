import Foundation
import Manifest

/// An instance's log on swarm: the engine of its node keeps it (the
/// instance's `<var>/<name>.log` in the container is a link to its standard
/// output, ``MountCopy/logLink``), and cthulhu appends what it has not
/// pulled yet to `<ip>/bindmounts/var/<name>.log` in the fixture folder:
/// on `logs`, on `status`, before a stop, kill or restart, and before the
/// container is removed (destroy, a replace, a scale-down). A cursor per
/// instance (`.cthulhu/logs/<name>.cursor`: the container, the engine's
/// time of the last line taken, and how many lines of that same time were
/// taken) keeps a line from being appended twice; a lock beside it keeps
/// two cthulhu commands from pulling the same log at once.
extension SwarmDriver {
  struct LogCursor: Codable, Equatable {
    /// The container (`node:id`) whose log this is a position in: a new
    /// container's log starts again from its beginning.
    var container: String
    var seconds: Int64
    var nanos: Int
    /// Lines of exactly that time already taken.
    var seen: Int
    var stamp: LogStamp { LogStamp(seconds: seconds, nanos: nanos) }
  }

  /// A time as the engine prefixes each log line with it.
  struct LogStamp: Comparable, Hashable {
    var seconds: Int64
    var nanos: Int
    static func < (a: Self, b: Self) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }

    /// `2026-12-02T11:20:33.123456789Z` (RFC 3339, any fraction, `Z` or an offset).
    init?(_ text: Substring) {
      let b = Array(text.utf8)
      func num(_ from: Int, _ len: Int) -> Int? {
        guard from + len <= b.count else { return nil }
        var v = 0
        for c in b[from..<(from + len)] {
          guard (48...57).contains(c) else { return nil }
          v = v * 10 + Int(c - 48)
        }
        return v
      }
      guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58,
        let year = num(0, 4), let month = num(5, 2), let day = num(8, 2), let hour = num(11, 2), let minute = num(14, 2),
        let second = num(17, 2)
      else { return nil }
      var i = 19
      var nanos = 0
      if b[i] == 46 {
        i += 1
        var digits = 0
        while i < b.count, (48...57).contains(b[i]) {
          if digits < 9 { nanos = nanos * 10 + Int(b[i] - 48) }
          digits += 1
          i += 1
        }
        for _ in digits..<max(digits, 9) { nanos *= 10 }
      }
      var offset = 0
      if i < b.count, b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), let om = num(i + 4, 2) {
        offset = (b[i] == 43 ? 1 : -1) * (oh * 3600 + om * 60)
      } else {
        guard i < b.count, b[i] == 90 else { return nil }
      }
      var tm = tm()
      tm.tm_year = Int32(year - 1900)
      tm.tm_mon = Int32(month - 1)
      tm.tm_mday = Int32(day)
      tm.tm_hour = Int32(hour)
      tm.tm_min = Int32(minute)
      tm.tm_sec = Int32(second)
      self.init(seconds: Int64(timegm(&tm)) - Int64(offset), nanos: nanos)
    }

    init(seconds: Int64, nanos: Int) {
      self.seconds = seconds
      self.nanos = nanos
    }
  }

  /// Pulls each container's new output into its log file, several at once;
  /// best effort (a pull that fails leaves the file and its cursor as they
  /// were, and the next one takes up from there).
  public func collectLogs(ids: [String]) async {
    await withTaskGroup(of: Void.self) { group in
      var running = 0
      for id in ids {
        if running == 8 {
          await group.next()
          running -= 1
        }
        running += 1
        group.addTask { await self.pullLogFirst(id) }
      }
    }
  }

  /// Appends the container's output that its log file does not have yet
  /// (see above). Returns how many lines were appended; nothing is done for
  /// a container without the ``logLabel`` (no `var` mount), or whose
  /// fixture folder is gone.
  @discardableResult
  func pullLog(id: String) async throws -> Int {
    let (n, cid) = try await locate(id)
    let labels = try await n.driver.inspect(id: cid).labels
    guard let root = labels[Labels.root], root.hasPrefix("/"), let name = labels[Labels.instance], InstanceName.ordinal(name) != nil,
      let rel = labels[Self.logLabel]
    else { return 0 }
    let parts = rel.split(separator: "/").map(String.init)
    guard parts.count >= 2, parts.allSatisfy(SafeTree.isEntryName) else { return 0 }
    let top = try Folder(path: root)
    guard let state = try? top.folder(".cthulhu", create: false) else { return 0 }
    var logFolder = top
    for p in parts.dropLast() { logFolder = try logFolder.folder(p, create: false) }
    let cursors = try state.folder("logs")
    let lock = openat(cursors.fd, name + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
    guard lock >= 0 else { throw OrchestratorError.io(path: cursors.path + "/\(name).lock", errno: errno) }
    defer { close(lock) }
    while flock(lock, LOCK_EX) != 0 {
      guard errno == EINTR else { throw OrchestratorError.io(path: cursors.path + "/\(name).lock", errno: errno) }
    }
    var cursor = (try? cursors.read(name + ".cursor")).flatMap { try? JSONDecoder().decode(LogCursor.self, from: Data($0.0)) }
    if cursor?.container != id { cursor = nil }
    var last = cursor ?? LogCursor(container: id, seconds: 0, nanos: 0, seen: 0)
    var skip = cursor?.seen ?? 0
    var out: [UInt8] = []
    var lines = 0
    // (`since` in whole seconds, at or before the cursor: the lines before
    // it are dropped here, by their own times.)
    for try await line in n.driver.logs(id: cid, follow: false, sinceQuery: cursor.map { String($0.seconds) }, timestamps: true) {
      guard let space = line.text.firstIndex(of: " "), let t = LogStamp(line.text[..<space]) else { continue }
      if let cursor {
        if t < cursor.stamp { continue }
        if t == cursor.stamp && skip > 0 {
          skip -= 1
          continue
        }
      }
      if t == last.stamp {
        last.seen += 1
      } else {
        last = LogCursor(container: id, seconds: t.seconds, nanos: t.nanos, seen: 1)
      }
      out += Array(line.text[line.text.index(after: space)...].utf8) + [10]
      lines += 1
    }
    guard lines > 0 else { return 0 }
    try logFolder.append(parts.last!, Data(out))
    try cursors.write(name + ".cursor", try JSONEncoder().encode(last), mode: 0o600, durable: false)
    return lines
  }

  /// ``pullLog(id:)`` before a step that ends the container's process or
  /// the container: a failure there must not stop the step.
  func pullLogFirst(_ id: String) async {
    _ = try? await pullLog(id: id)
  }
}

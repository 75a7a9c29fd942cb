import Foundation

/// What `/proc/<pid>/stat` says about one process: enough to tell the
/// process cthulhu started from another that later got the same PID.
struct ProcStat: Sendable, Hashable {
  var pid: Int32
  /// `R`, `S`, `D`, `T` (stopped), `t` (traced), `Z` (zombie), …
  var state: Character
  var processGroup: Int32
  var session: Int32
  /// Field 22: clock ticks after boot at which the process started. A PID is
  /// reused, a (PID, start time) pair is not.
  var startTime: UInt64

  /// Reads `/proc/<pid>/stat`; nil when there is no such process. (A look
  /// at every instance reads one: one `read` into a buffer on the stack, and
  /// the bytes parsed where they are.)
  static func read(_ pid: Int32) -> ProcStat? {
    guard pid > 0 else { return nil }
    let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buf -> ProcStat? in
      var n = 0
      while n < buf.count {
        let got = Glibc.read(fd, buf.baseAddress! + n, buf.count - n)
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { break }
        n += got
      }
      return parse(UnsafeBufferPointer(rebasing: buf[..<n]), pid: pid)
    }
  }

  /// The command (field 2) may hold spaces and parentheses: fields are
  /// counted after its last `)`.
  static func parse(_ text: String, pid: Int32) -> ProcStat? {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { parse(UnsafeBufferPointer($0), pid: pid) }
  }

  static func parse(_ text: UnsafeBufferPointer<UInt8>, pid: Int32) -> ProcStat? {
    guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
    // Fields 3, 5, 6 and 22 (state, process group, session, start time): the
    // field after `)` is field 3.
    var field = 2
    var i = close + 1
    var state: UInt8 = 0
    var pgrp: UInt64?
    var sid: UInt64?
    var startTime: UInt64?
    while i < text.count, field < 22 {
      while i < text.count, text[i] == UInt8(ascii: " ") { i += 1 }
      guard i < text.count else { break }
      field += 1
      let start = i
      while i < text.count, text[i] != UInt8(ascii: " "), text[i] != UInt8(ascii: "\n") { i += 1 }
      switch field {
      case 3: state = text[start]
      case 5: pgrp = number(text[start..<i])
      case 6: sid = number(text[start..<i])
      case 22: startTime = number(text[start..<i])
      default: break
      }
    }
    guard state != 0, let pgrp, let sid, let startTime, let group = Int32(exactly: pgrp), let session = Int32(exactly: sid) else {
      return nil
    }
    return ProcStat(pid: pid, state: Character(Unicode.Scalar(state)), processGroup: group, session: session, startTime: startTime)
  }

  /// Decimal digits, nothing else.
  private static func number(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
    guard !digits.isEmpty else { return nil }
    var v: UInt64 = 0
    for b in digits {
      guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
      guard !o1, !o2 else { return nil }
      v = a
    }
    return v
  }
}

/// Where a recorded process stands now.
enum Liveness: Sendable, Hashable {
  case running
  /// Stopped by SIGSTOP (state `T`): what `pause` does.
  case paused
  /// Exited, not yet reaped by its parent (state `Z`).
  case zombie
  /// No process with this PID and start time: exited (and reaped), or the
  /// PID now belongs to someone else.
  case gone
}

enum ProcFS {
  /// The process `pid` if it is still the one that started at `startTime`.
  static func liveness(pid: Int32, startTime: UInt64) -> Liveness {
    guard let s = ProcStat.read(pid), s.startTime == startTime else { return .gone }
    switch s.state {
    case "Z", "X", "x": return .zombie
    case "T", "t": return .paused
    default: return .running
    }
  }

  /// Session leaders whose environment holds `entry` (`KEY=VALUE`): finds
  /// an instance's process when a cthulhu was killed between spawning it and
  /// recording its PID. Reads every process's stat, so only for that case.
  static func sessionLeaders(withEnvironment entry: String) -> [ProcStat] {
    let needle = Array(entry.utf8) + [0]
    var found: [ProcStat] = []
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(name), let s = ProcStat.read(pid), s.session == pid, s.state != "Z",
        let env = ProcFile.data("/proc/\(pid)/environ")
      else { continue }
      let bytes = [UInt8](env)
      if bytes.count >= needle.count,
        (0...(bytes.count - needle.count)).contains(where: { i in
          (i == 0 || bytes[i - 1] == 0) && bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle
        })
      {
        found.append(s)
      }
    }
    return found
  }

  /// Collects the exit status of `pid` if it is this process's own child and
  /// has exited: Docker's convention, the code, or 128 + the signal that killed it.
  static func reap(_ pid: Int32) -> Int? {
    var status: Int32 = 0
    guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
    let signal = status & 0x7f
    return signal == 0 ? Int((status >> 8) & 0xff) : 128 + Int(signal)
  }

  /// `kill(2)`: a negative `pid` signals a process group. (A plain `kill` in
  /// the driver's methods would name ``ProcessDriver/kill(id:signal:)``.)
  @discardableResult
  static func send(_ signal: Int32, to pid: Int32) -> Bool { kill(pid, signal) == 0 }

  /// Small files from /proc in one read (FileManager is slower for these).
  static func read(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 4096)
    var out: [UInt8] = []
    while true {
      let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { break }
      out += buf[..<n]
    }
    return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
  }

  /// Effective capabilities of this process (`CapEff` of /proc/self/status).
  static func effectiveCapabilities() -> UInt64? {
    guard let status = read("/proc/self/status"),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") })
    else { return nil }
    return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
  }
}

/// A file under /proc read to its end. Procfs files say they hold 0 bytes,
/// and a read sized by that (`String(contentsOfFile:)`,
/// `FileManager.contents(atPath:)`) stops at the first page: a mount table,
/// an environment or a cgroup list longer than 4 KiB came back cut.
public enum ProcFile {
  public static func data(_ path: String) -> Data? {
    guard let h = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? h.close() }
    return try? h.readToEnd() ?? Data()
  }

  public static func text(_ path: String) -> String? { data(path).map { String(decoding: $0, as: UTF8.self) } }
}

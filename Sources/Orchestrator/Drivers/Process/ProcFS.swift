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

  /// Reads `/proc/<pid>/stat`; nil when there is no such process.
  static func read(_ pid: Int32) -> ProcStat? {
    guard pid > 0, let text = ProcFS.read("/proc/\(pid)/stat") else { return nil }
    return parse(text, pid: pid)
  }

  /// The command (field 2) may hold spaces and parentheses: fields are
  /// counted after its last `)`.
  static func parse(_ text: String, pid: Int32) -> ProcStat? {
    guard let close = text.lastIndex(of: ")") else { return nil }
    let f = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    // f[0] is field 3 (state), so field n is f[n - 3].
    guard f.count > 19, let state = f[0].first, let pgrp = Int32(f[2]), let sid = Int32(f[3]), let start = UInt64(f[19]) else {
      return nil
    }
    return ProcStat(pid: pid, state: state, processGroup: pgrp, session: sid, startTime: start)
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
        let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
      else { continue }
      let bytes = [UInt8](env)
      if bytes.count >= needle.count, (0...(bytes.count - needle.count)).contains(where: { i in
        (i == 0 || bytes[i - 1] == 0) && bytes[i] == needle[0] && Array(bytes[i..<(i + needle.count)]) == needle
      }) {
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

import Foundation

/// Appends events to a history file, one JSON line each. Every line is a
/// single `write` on an `O_APPEND` descriptor (as the fixture's events.jsonl
/// is written), so clients recording at the same time never interleave
/// within a line, and the file's order is an order in which the events
/// really happened: an invoke is written before its operation starts, a
/// completion after it ends.
public struct HistoryLog: Sendable {
  public let path: String
  public init(path: String) { self.path = path }

  public struct AppendError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "\(path): \(String(cString: strerror(errno)))" }
  }

  public func append(_ event: HistoryEvent) throws {
    let line = Array((event.jsonLine + "\n").utf8)
    let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw AppendError(path: path, errno: errno) }
    defer { close(fd) }
    let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == line.count else { throw AppendError(path: path, errno: written < 0 ? errno : EIO) }
  }
}

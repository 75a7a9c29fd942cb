import Foundation

#if canImport(Glibc)
import Glibc

/// One JSON line each way over a unix stream socket: what the disk layer's
/// control socket speaks. The server (`DiskLayerControl`, in DiskLayer) and
/// ``DiskLayerClient`` share these calls.
package enum UnixLineSocket {
  /// Longest line read (a request or a reply).
  static let maximumLine = 1 << 20

  /// A unix socket address for `path`, or nil if the path is too long for one (108 bytes).
  package static func address(_ path: String) -> sockaddr_un? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      raw.copyBytes(from: bytes)
      raw[bytes.count] = 0
    }
    return address
  }

  /// A new socket (close-on-exec), or -1 with `errno` set.
  package static func newSocket() -> Int32 {
    socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
  }

  /// `connect` (or `bind`) `fd` to `address`: 0, or -1 with `errno` set.
  package static func connectOrBind(_ fd: Int32, _ address: sockaddr_un, bind: Bool) -> Int32 {
    var address = address
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind ? Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) : connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
  }

  /// Reads and writes on `fd` give up after `seconds` without progress.
  package static func setTimeout(_ fd: Int32, seconds: Double) {
    let whole = max(0, seconds.rounded(.down))
    var timeout = timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
  }

  /// Bytes up to the first newline (or the end), at most 1 MiB; nil if there were none.
  package static func readLine(_ fd: Int32) -> Data? {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while data.count < maximumLine {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      if n <= 0 { break }
      data.append(contentsOf: buffer[..<n])
      if let newline = data.firstIndex(of: 0x0A) { return data[..<newline] }
    }
    return data.isEmpty ? nil : data
  }

  /// Writes `data` and a newline; says whether all of it went.
  @discardableResult
  package static func writeLine(_ fd: Int32, _ data: Data) -> Bool {
    var line = data
    line.append(0x0A)
    return line.withUnsafeBytes { raw in
      var sent = 0
      while sent < raw.count {
        let n = write(fd, raw.baseAddress! + sent, raw.count - sent)
        if n < 0, errno == EINTR { continue }
        if n <= 0 { return false }
        sent += n
      }
      return true
    }
  }
}
#endif

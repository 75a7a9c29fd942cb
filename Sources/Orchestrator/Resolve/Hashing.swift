import COpenSSL
import Foundation

/// SHA-256 helpers for spec and file hashes (the system's libcrypto).
enum Hashing {
  static func sha256(_ data: Data) -> String { hex(digest(data)) }

  /// The 32 bytes of SHA-256 of `data`.
  static func digest(_ data: Data) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
    data.withUnsafeBytes { bytes in
      _ = SHA256(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, &out)
    }
    return out
  }

  /// Lower-case hex of a byte sequence. Written out by hand: `String(format:
  /// "%02x")` per byte was a quarter of the time of planning 1,000 instances.
  static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

  /// Hash of a value's canonical JSON (sorted keys), so equal specs hash equal.
  static func sha256<T: Encodable>(json value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding our own plain value types cannot fail.
    return sha256((try? encoder.encode(value)) ?? Data())
  }
}

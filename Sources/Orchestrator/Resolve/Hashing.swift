import Crypto
import Foundation

/// SHA-256 helpers for spec and file hashes.
enum Hashing {
  static func sha256(_ data: Data) -> String {
    SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
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

import ArgumentParser
import Manifest

/// The typed values commands take, each checked once, by the parser (as
/// `@Option(transform:)`), which names the option and says what it expects:
/// `error: The value 'soon' is invalid for '--for <duration>': expected a
/// duration such as 500ms, 30s, 2m or 1h`.
enum Parse {
  struct Invalid: Error, CustomStringConvertible {
    var description: String
  }

  /// `500ms`, `30s`, `1m30s`, `1h`: more than zero.
  static func duration(_ text: String) throws -> Duration {
    guard let d = Units.duration(text), d > .zero else { throw Invalid(description: "expected a duration such as 500ms, 30s, 2m or 1h") }
    return d
  }

  /// `--ttl`: a duration, or `0` to remove the time to live.
  static func timeToLive(_ text: String) throws -> Duration {
    if text == "0" { return .zero }
    guard let d = Units.duration(text), d > .zero else {
      throw Invalid(description: "expected a duration such as 30m or 2h, or 0 to remove the time to live")
    }
    return d
  }

  /// `30` or `30%`: a share of packets from 0 to 100.
  static func percent(_ text: String) throws -> Double {
    guard let p = Units.percent(text) else { throw Invalid(description: "expected a percentage from 0 to 100, such as 30 or 30%") }
    return p
  }

  /// `512kbit`, `10mbit`, `1gbit`, or bytes `64kbps`, `1mbps`, as tc writes them.
  static func rate(_ text: String) throws -> Int64 {
    guard let bits = Units.bitRate(text) else {
      throw Invalid(description: "expected a rate such as 512kbit, 10mbit, 1gbit (bits) or 64kbps, 1mbps (bytes)")
    }
    return bits
  }
}

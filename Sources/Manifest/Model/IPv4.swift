/// An IPv4 address as a 32-bit number.
public struct IPv4Address: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
  public var value: UInt32
  public init(_ value: UInt32) { self.value = value }

  /// Parses dotted-quad notation (`172.28.5.2`); nil when malformed.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var v: UInt32 = 0
    for p in parts {
      guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let n = UInt32(p), n <= 255 else { return nil }
      guard p.count == 1 || p.first != "0" else { return nil }
      v = v << 8 | n
    }
    value = v
  }

  public var description: String {
    "\(value >> 24).\((value >> 16) & 255).\((value >> 8) & 255).\(value & 255)"
  }
  public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    guard let a = IPv4Address(s) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad IPv4 address \(s)"))
    }
    self = a
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

/// An IPv4 network in CIDR notation (`172.28.5.0/24`).
public struct IPv4Network: Sendable, Hashable, Codable, CustomStringConvertible {
  public var address: IPv4Address
  public var prefix: Int

  public init(address: IPv4Address, prefix: Int) {
    precondition((0...32).contains(prefix))
    self.address = IPv4Address(address.value & Self.mask(prefix))
    self.prefix = prefix
  }

  /// Parses `a.b.c.d/n`; nil when malformed or when host bits are set.
  public init?(_ text: some StringProtocol) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let a = IPv4Address(parts[0]), let p = Int(parts[1]), (0...32).contains(p),
      parts[1].allSatisfy(\.isASCII)
    else { return nil }
    guard a.value & ~Self.mask(p) == 0 else { return nil }
    self.init(address: a, prefix: p)
  }

  static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }

  public var description: String { "\(address)/\(prefix)" }
  /// Number of addresses in the network.
  public var size: UInt64 { UInt64(1) << UInt64(32 - prefix) }
  /// The gateway: the first usable address (`.1`).
  public var gateway: IPv4Address { IPv4Address(address.value + 1) }
  /// The n-th instance address (0-based): `.2`, `.3`, … as the original tool did.
  public func host(_ n: Int) -> IPv4Address { IPv4Address(address.value + 2 + UInt32(n)) }
  /// How many instance addresses fit (network, gateway and broadcast excluded).
  public var capacity: Int { max(0, Int(size) - 3) }
  public func contains(_ a: IPv4Address) -> Bool { a.value & Self.mask(prefix) == address.value }
  public func overlaps(_ o: IPv4Network) -> Bool {
    let p = min(prefix, o.prefix)
    return address.value & Self.mask(p) == o.address.value & Self.mask(p)
  }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    guard let n = IPv4Network(s) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad IPv4 network \(s)"))
    }
    self = n
  }
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

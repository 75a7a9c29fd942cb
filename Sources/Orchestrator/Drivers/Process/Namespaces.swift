import Foundation
import Manifest

/// The namespaces mode's wiring, Mininet-style, with iproute2 and iptables:
/// per fixture a bridge with the gateway address; per instance a named
/// network namespace with a veth pair (host end on the bridge, `eth0`
/// inside, the instance's address, lo up, default route via the gateway).
///
/// Every name carries a short hash of the fixture name, so `destroy` finds
/// all of it and nothing of anyone else's: bridge `cth-<hash8>`, namespace
/// `cth-<hash8>-<instance>`, host link `v<hash8><instance>` (interface names
/// are at most 15 characters). Every step can be run again: a cthulhu
/// killed half-way leaves something the next call completes or removes.
enum Namespaces {
  static func hash(_ fixture: String) -> String { String(Hashing.sha256(fixture).prefix(8)) }
  static func bridge(fixture: String) -> String { "cth-" + hash(fixture) }
  static func namespace(fixture: String, instance: String) -> String { "cth-\(hash(fixture))-\(instance)" }
  static func hostLink(fixture: String, instance: String) -> String { "v\(hash(fixture))\(instance)" }
  static func path(namespace: String) -> String { "/run/netns/" + namespace }
  /// The MAC address an interface with this IPv4 address gets: `02:c7`
  /// (locally administered, unicast) and the address's four bytes, as
  /// Docker derives `02:42:…` from a container's address. An instance made
  /// again (a replace, a restart that rewires it, a readdress back) keeps its
  /// MAC, so its peers' neighbour caches stay right and it answers at once;
  /// the bridge's is fixed the same way, from the gateway's address, so it
  /// does not change as ports come and go (a bridge left alone takes the
  /// lowest MAC among its ports).
  static func mac(for address: IPv4Address) -> String {
    let v = address.value
    return String(format: "02:c7:%02x:%02x:%02x:%02x", (v >> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff)
  }
  /// Tags the FORWARD rule so it is found again, and so a person reading
  /// `iptables -S` knows whose it is.
  static func comment(fixture: String) -> String { "cthulhu:" + fixture }

  /// Fails with one sentence unless this process may make namespaces, links
  /// and rules. (An `OrchestratorError`, not a `DriverError`: no engine
  /// operation is under way that apply should wait for or adopt.)
  static func requirePrivileges() throws {
    let netAdmin: UInt64 = 1 << 12
    let sysAdmin: UInt64 = 1 << 21
    guard let caps = ProcFS.effectiveCapabilities(), caps & netAdmin != 0, caps & sysAdmin != 0 else {
      throw OrchestratorError(
        .unsupported,
        "network.mode: namespaces needs root (CAP_NET_ADMIN, and CAP_SYS_ADMIN for `ip netns`) to make a bridge, network namespaces and veth pairs; run cthulhu with sudo, or use network.mode: loopback"
      )
    }
  }

  // MARK: - Bridge

  static func forwardRule(bridge: String, fixture: String) -> [String] {
    ["FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", comment(fixture: fixture), "-j", "ACCEPT"]
  }

  /// The bridge up with the gateway address, and traffic between its ports
  /// accepted in FORWARD (Docker sets the policy to DROP, and with
  /// br_netfilter bridged frames pass iptables).
  static func setUpBridge(_ n: ProcessNetwork) async throws {
    let br = n.bridge!
    if try await ip(["link", "show", "dev", br], mayFail: true).status != 0 {
      try await ip(["link", "add", br, "type", "bridge"])
    }
    try await ip(["link", "set", br, "address", mac(for: n.spec.gateway)])
    try await ip(["addr", "replace", "\(n.spec.gateway)/\(n.spec.subnet.prefix)", "dev", br])
    try await ip(["link", "set", br, "up"])
    let rule = forwardRule(bridge: br, fixture: n.fixture)
    if try await iptables(["-C"] + rule, mayFail: true).status != 0 {
      try await iptables(["-I"] + rule)
    }
  }

  static func tearDownBridge(_ n: ProcessNetwork) async throws {
    guard let br = n.bridge else { return }
    let rule = forwardRule(bridge: br, fixture: n.fixture)
    var k = 0
    while k < 16, try await iptables(["-D"] + rule, mayFail: true).status == 0 { k += 1 }
    if try await ip(["link", "show", "dev", br], mayFail: true).status == 0 {
      try await ip(["link", "del", br])
    }
  }

  // MARK: - Instances

  /// The instance's namespace, wired to the bridge. Run again, it rebuilds
  /// the veth pair (a half-made one is removed first).
  static func setUpInstance(_ r: ProcessInstance, network n: ProcessNetwork) async throws {
    let ns = r.namespace!
    let link = r.hostLink!
    let br = n.bridge!
    if !FileManager.default.fileExists(atPath: path(namespace: ns)) {
      try await ip(["netns", "add", ns])
    }
    if try await ip(["link", "show", "dev", link], mayFail: true).status == 0 {
      try await ip(["link", "del", link])
    }
    try await ip(["-n", ns, "link", "del", "eth0"], mayFail: true)
    try await ip(
      ["-batch", "-"],
      input: """
        link add \(link) type veth peer name eth0 netns \(ns)
        link set \(link) master \(br) up

        """)
    try await ip(
      ["-n", ns, "-batch", "-"],
      input: """
        link set eth0 address \(mac(for: r.spec.ip))
        addr add \(r.spec.ip)/\(n.spec.subnet.prefix) dev eth0
        link set eth0 up
        link set lo up
        route add default via \(n.spec.gateway)

        """)
  }

  /// Removes the namespace (its `eth0` goes with it, and with it the host end).
  static func tearDownInstance(_ r: ProcessInstance) async throws {
    if let link = r.hostLink, try await ip(["link", "show", "dev", link], mayFail: true).status == 0 {
      try await ip(["link", "del", link], mayFail: true)
    }
    if let ns = r.namespace, FileManager.default.fileExists(atPath: path(namespace: ns)) {
      try await ip(["netns", "del", ns])
    }
  }

  // MARK: - Tools

  @discardableResult
  static func ip(_ args: [String], input: String? = nil, mayFail: Bool = false) async throws -> Spawner.Output {
    try await tool("ip", args, input: input, mayFail: mayFail)
  }

  @discardableResult
  static func iptables(_ args: [String], mayFail: Bool = false) async throws -> Spawner.Output {
    try await tool("iptables", ["-w"] + args, input: nil, mayFail: mayFail)
  }

  static func tool(_ name: String, _ args: [String], input: String?, mayFail: Bool) async throws -> Spawner.Output {
    guard let exe = HostCommand.locate(name) else {
      throw DriverError(.unsupported, "\(name) is not installed; network.mode: namespaces needs it (Debian: \(HostCommand.package(name)))")
    }
    let r = try await Spawner.run([exe] + args, input: input.map { Data($0.utf8) }, timeout: .seconds(30))
    if r.status != 0 && !mayFail {
      let why = String(decoding: r.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      throw DriverError(.engine(status: Int(r.status)), "`\(name) \(args.joined(separator: " "))` failed: \(why.isEmpty ? "exit \(r.status)" : why)")
    }
    return r
  }
}

/// Subnets the host already routes (interfaces and routes other than the
/// default, loopback and cthulhu's own bridges), so namespaces mode never
/// picks one that a Docker network, a VPN or the LAN uses.
enum HostSubnets {
  static func list() -> [ObservedNetwork] {
    guard let text = ProcFS.read("/proc/net/route") else { return [] }
    var out: [ObservedNetwork] = []
    for line in text.split(separator: "\n").dropFirst() {
      let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard f.count >= 8, let dest = UInt32(f[1], radix: 16), let mask = UInt32(f[7], radix: 16), mask != 0 else { continue }
      let iface = String(f[0])
      if iface == "lo" || iface.hasPrefix("cth-") { continue }
      // /proc/net/route prints addresses in host (little-endian) order.
      let net = IPv4Address(dest.byteSwapped)
      let prefix = mask.nonzeroBitCount
      out.append(
        ObservedNetwork(id: "host:\(iface):\(net)/\(prefix)", name: iface, subnets: [IPv4Network(address: net, prefix: prefix)], labels: [:]))
    }
    return out
  }
}

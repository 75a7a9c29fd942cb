import Foundation
import Manifest

/// Runs a host program and collects its exit status and output.
public enum HostCommand {
  public struct Result: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// Runs `arguments` (the first one an absolute path or a name found on PATH),
  /// with `input` on stdin. Never goes through a shell; both pipes are read
  /// while it runs (``Spawner/run(_:env:cwd:input:timeout:)``), and after
  /// `timeout` its process group is killed.
  public static func run(_ arguments: [String], input: String? = nil, timeout: Duration = .seconds(30)) async throws -> Result {
    guard let exe = locate(arguments[0]) else {
      throw OrchestratorError(.unsupported, "\(arguments[0]) is not installed; network faults need it (Debian: \(package(arguments[0])))")
    }
    let r = try await Spawner.run([exe] + arguments.dropFirst(), input: input.map { Data($0.utf8) }, timeout: timeout)
    if r.timedOut {
      throw OrchestratorError(.unsupported, "`\(arguments.joined(separator: " "))` did not finish within \(timeout) and was killed")
    }
    return Result(status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self))
  }

  static func locate(_ name: String) -> String? {
    if name.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
    return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  static func package(_ tool: String) -> String {
    switch tool {
    case "nsenter", "unshare": return "util-linux"
    case "iptables", "iptables-restore": return "iptables"
    default: return "iproute2"
    }
  }
}

/// Makes an instance's network namespace hold exactly the `NetRules` given:
/// cthulhu's own iptables chains (`CTHULHU-IN`, `CTHULHU-OUT`, jumped to from
/// INPUT and OUTPUT; `CTHULHU-DUP` in the mangle table, from PREROUTING) and its own root qdisc (handle `c7c7:`). The commands
/// and their input are the same whichever ``NetnsRunner`` carries them into
/// the namespace (`nsenter` from the host, or a fault helper container on
/// the instance's node); the instance needs no privileges and no tools of
/// its own. Rules and qdiscs that are not cthulhu's are never changed.
public struct NetFaultEnforcer: Sendable {
  public init() {}

  /// Checks, before anything is changed, that this process may enter other
  /// namespaces and change their rules (the host path).
  public static func checkPrivileges() throws {
    guard let status = ProcFile.text("/proc/self/status"),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
      let caps = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    else { return }
    let netAdmin: UInt64 = 1 << 12
    let sysAdmin: UInt64 = 1 << 21
    guard caps & netAdmin != 0, caps & sysAdmin != 0 else {
      throw OrchestratorError(
        .unsupported,
        "network faults need root: cthulhu enters each instance's network namespace (CAP_SYS_ADMIN) and changes its iptables rules and queueing (CAP_NET_ADMIN) from the host; run it with sudo, or set `faults: { via: helper }` in the manifest of a docker fixture"
      )
    }
  }

  /// Whether the kernel that `runner` reaches has netem (`sch_netem`). The
  /// probe runs in a throwaway namespace on that kernel, so it touches no
  /// instance. Without it, delays take the queue path (``PacketDelayer``).
  public static func hasNetem(_ runner: any NetnsRunner) async throws -> Bool {
    try await runner.runScratch(["tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"]).status == 0
  }

  /// Brings the namespace that `runner` reaches (the instance at `ip`) to `rules`.
  public func enforce(_ rules: NetRules, runner: any NetnsRunner, ip: IPv4Address, instance: String) async throws {
    func run(_ args: [String], input: String? = nil) async throws -> HostCommand.Result {
      try await runner.run(args, input: input)
    }
    @discardableResult
    func must(_ args: [String], input: String? = nil) async throws -> String {
      let r = try await run(args, input: input)
      guard r.status == 0 else {
        throw OrchestratorError(
          .step, "\(instance): `\(args.joined(separator: " "))` failed: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
      }
      return r.stdout
    }
    // One listing of both tables, then one transaction: cthulhu's chains
    // (filter: CTHULHU-IN/OUT; mangle: CTHULHU-DUP for duplication) as
    // `rules` wants them, with a jump to each where there is none yet, or
    // removed with every jump to them. Nothing else in either table changes.
    let present = Self.cthulhuRules(in: try await must(["iptables-save"]))
    var input = ""
    for table in NetRules.tables {
      let here = present[table.name] ?? Present()
      let missing = table.jumps.filter { j in !here.jumps.contains { $0.builtin == j.builtin && $0.chain == j.chain } }
      let wanted =
        table.name == "filter"
        ? (rules.hasFilter ? rules.iptablesRestore(jumping: missing) : nil) : rules.mangleRestore(jumping: missing)
      if let wanted {
        input += wanted
      } else if !here.jumps.isEmpty || !here.chains.isEmpty {
        input += Self.removal(table: table.name, jumps: here.jumps, chains: here.chains)
      }
    }
    if !input.isEmpty { try await must(["iptables-restore", "-w", "--noflush"], input: input) }
    guard rules.hasQdisc else {
      // Nothing to queue: cthulhu's root qdisc goes wherever one listing finds it (no interface lookup).
      let shown = try await run(["tc", "qdisc", "show"])
      for device in Self.devices(withRootHandle: NetRules.qdiscHandle, in: shown.stdout) {
        try await must(["tc", "qdisc", "del", "dev", device, "root", "handle", NetRules.qdiscHandle])
      }
      return
    }
    let device = try await interface(runner: runner, ip: ip, instance: instance)
    if let tree = rules.linkQdiscCommands(device: device) {
      // A tree cannot replace another kind of root qdisc: cthulhu's old one goes first.
      let shown = try await run(["tc", "qdisc", "show", "dev", device, "root"])
      if shown.stdout.contains(" \(NetRules.qdiscHandle) ") {
        try await must(["tc", "qdisc", "del", "dev", device, "root", "handle", NetRules.qdiscHandle])
      }
      for cmd in tree { try await must(["tc"] + cmd) }
    } else if let args = rules.qdiscArguments() {
      // The link tree (htb) cannot be replaced by a qdisc of another kind.
      let shown = try await run(["tc", "qdisc", "show", "dev", device, "root"])
      if shown.stdout.contains("qdisc htb \(NetRules.qdiscHandle) ") {
        try await must(["tc", "qdisc", "del", "dev", device, "root", "handle", NetRules.qdiscHandle])
      }
      try await must(["tc", "qdisc", "replace", "dev", device] + args)
    }
  }

  /// What of cthulhu's is in one table of a namespace.
  struct Present: Equatable {
    var jumps: [NetRules.Jump] = []
    var chains: [String] = []
  }

  /// An `iptables-restore --noflush` input for `table` that deletes `jumps`
  /// (each as many times as listed) and then empties and deletes `chains`.
  static func removal(table: String, jumps: [NetRules.Jump], chains: [String]) -> String {
    var lines = ["*" + table]
    for j in jumps { lines += Array(repeating: "-D \(j.builtin) -j \(j.chain)", count: j.count) }
    for chain in chains { lines += ["-F \(chain)", "-X \(chain)"] }
    return (lines + ["COMMIT", ""]).joined(separator: "\n")
  }

  /// cthulhu's jumps and chains, by table, in an `iptables-save` listing
  /// (`*filter`, `:CTHULHU-IN - [0:0]`, `-A INPUT -j CTHULHU-IN`, `COMMIT`).
  static func cthulhuRules(in saved: String) -> [String: Present] {
    var found: [String: Present] = [:]
    var table = ""
    for line in saved.split(separator: "\n").map(String.init) {
      if line.hasPrefix("*") {
        table = String(line.dropFirst())
        continue
      }
      guard let ours = NetRules.tables.first(where: { $0.name == table }) else { continue }
      for j in ours.jumps {
        if line.hasPrefix(":\(j.chain) ") && !(found[table]?.chains.contains(j.chain) ?? false) {
          found[table, default: Present()].chains.append(j.chain)
        }
        if line == "-A \(j.builtin) -j \(j.chain)" {
          var p = found[table, default: Present()]
          if let k = p.jumps.firstIndex(where: { $0.builtin == j.builtin && $0.chain == j.chain }) {
            p.jumps[k].count += 1
          } else {
            p.jumps.append(j)
          }
          found[table] = p
        }
      }
    }
    return found
  }

  /// The devices whose root qdisc has `handle`, in a `tc qdisc show` listing
  /// (`qdisc htb c7c7: dev eth0 root refcnt 2 …`).
  static func devices(withRootHandle handle: String, in listing: String) -> [String] {
    listing.split(separator: "\n").compactMap { line in
      let f = line.split(separator: " ", omittingEmptySubsequences: true)
      guard f.count > 5, f[2] == handle, f[3] == "dev", f[5] == "root" else { return nil }
      return String(f[4])
    }
  }

  /// The interface that carries `ip` inside the namespace (`eth0` in a container).
  func interface(runner: any NetnsRunner, ip: IPv4Address, instance: String) async throws -> String {
    let r = try await runner.run(["ip", "-o", "-4", "addr", "show"])
    for line in r.stdout.split(separator: "\n") {
      let f = line.split(separator: " ", omittingEmptySubsequences: true)
      if f.count > 3, f[3].hasPrefix("\(ip)/") { return String(f[1]) }
    }
    throw OrchestratorError(
      .step, "\(instance): no interface with address \(ip) in its network namespace (\(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
  }
}

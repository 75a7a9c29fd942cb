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
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
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
    func must(_ args: [String], input: String? = nil) async throws {
      let r = try await run(args, input: input)
      guard r.status == 0 else {
        throw OrchestratorError(
          .step, "\(instance): `\(args.joined(separator: " "))` failed: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
      }
    }
    let chains = [("INPUT", NetRules.inChain), ("OUTPUT", NetRules.outChain)]
    if rules.hasFilter {
      try await must(["iptables-restore", "-w", "--noflush"], input: rules.iptablesRestore())
      for (builtin, chain) in chains where try await run(["iptables", "-w", "-C", builtin, "-j", chain]).status != 0 {
        try await must(["iptables", "-w", "-I", builtin, "1", "-j", chain])
      }
    } else {
      for (builtin, chain) in chains {
        // Remove every jump (there is one unless someone added more), then the chain.
        var n = 0
        while n < 8, try await run(["iptables", "-w", "-D", builtin, "-j", chain]).status == 0 { n += 1 }
        if try await run(["iptables", "-w", "-F", chain]).status == 0 {
          try await must(["iptables", "-w", "-X", chain])
        }
      }
    }
    // Duplication: cthulhu's own mangle chain, jumped to from PREROUTING.
    if let mangle = rules.mangleRestore() {
      try await must(["iptables-restore", "-w", "--noflush"], input: mangle)
      if try await run(["iptables", "-w", "-t", "mangle", "-C", "PREROUTING", "-j", NetRules.dupChain]).status != 0 {
        try await must(["iptables", "-w", "-t", "mangle", "-I", "PREROUTING", "1", "-j", NetRules.dupChain])
      }
    } else {
      var n = 0
      while n < 8, try await run(["iptables", "-w", "-t", "mangle", "-D", "PREROUTING", "-j", NetRules.dupChain]).status == 0 { n += 1 }
      if try await run(["iptables", "-w", "-t", "mangle", "-F", NetRules.dupChain]).status == 0 {
        try await must(["iptables", "-w", "-t", "mangle", "-X", NetRules.dupChain])
      }
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
    } else {
      let shown = try await run(["tc", "qdisc", "show", "dev", device, "root"])
      if shown.stdout.contains(" \(NetRules.qdiscHandle) ") {
        try await must(["tc", "qdisc", "del", "dev", device, "root", "handle", NetRules.qdiscHandle])
      }
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

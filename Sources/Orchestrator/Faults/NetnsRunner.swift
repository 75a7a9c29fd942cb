import Foundation
import Manifest

/// Runs the fault tools (`iptables`, `iptables-restore`, `tc`, `ip`) inside
/// one instance's network namespace: the seam between what ``NetFaultEnforcer``
/// decides (the same commands, the same input, whichever the path) and how
/// they reach the namespace.
///
/// Two paths (``FaultPath``): ``HostNetns`` enters the namespace from this
/// machine with `nsenter` (root); the Docker driver's fault helper is a
/// short-lived container started through the engine that runs the instance,
/// on its node, sharing its network namespace with `NET_ADMIN` only, so it
/// works where cthulhu cannot enter the namespace (another machine).
///
/// A runner may hold something (the helper container) from its first
/// ``run(_:input:)`` until ``close()``, which the owner calls once, also
/// after an error.
public protocol NetnsRunner: Sendable {
  /// Checks, before anything is changed, that this path can work from here
  /// (the host path: this process may enter namespaces). One sentence a
  /// person can act on.
  func checkAccess() throws
  /// Runs `arguments` (a program name and its arguments) in the instance's
  /// network namespace with `input` on stdin; returns its exit status and
  /// output. A command that does not finish in time is killed and throws.
  func run(_ arguments: [String], input: String?) async throws -> HostCommand.Result
  /// Runs `arguments` in a throwaway network namespace on the same kernel,
  /// for probes (may the kernel delay packets?) that must touch no instance.
  func runScratch(_ arguments: [String]) async throws -> HostCommand.Result
  /// Gives back what the runner holds. Never throws: a leftover is found by
  /// its labels later (``Driver/removeFaultHelpers(root:all:)``).
  func close() async
  /// The namespace as a path on this machine when this runner enters it from
  /// here (the host path), so that a ``PacketDelayer`` can enter it too; nil
  /// for a path that reaches the namespace some other way.
  var hostNamespace: String? { get }
}

extension NetnsRunner {
  public var hostNamespace: String? { nil }

  public func run(_ arguments: [String]) async throws -> HostCommand.Result { try await run(arguments, input: nil) }
}

/// The host path: every command runs on this machine through
/// `nsenter --net=<namespace>`. Needs root (`CAP_SYS_ADMIN` to enter,
/// `CAP_NET_ADMIN` to change), holds nothing.
public struct HostNetns: NetnsRunner {
  /// A path `nsenter --net=` accepts: `/proc/<pid>/ns/net`, `/run/netns/<name>`.
  public let namespace: String

  public init(namespace: String) { self.namespace = namespace }

  public var hostNamespace: String? { namespace }

  public func checkAccess() throws { try NetFaultEnforcer.checkPrivileges() }

  public func run(_ arguments: [String], input: String?) async throws -> HostCommand.Result {
    try await HostCommand.run(["nsenter", "--net=\(namespace)", "--"] + arguments, input: input)
  }

  public func runScratch(_ arguments: [String]) async throws -> HostCommand.Result {
    try await HostCommand.run(["unshare", "--net", "--"] + arguments)
  }

  public func close() async {}
}

/// What a driver needs to hand out a ``NetnsRunner`` for one instance.
public struct NetnsRequest: Sendable, Hashable {
  public var via: FaultPath
  /// The fixture folder: fault helpers carry it as a label, so that destroy
  /// and later fault commands find and remove any leftover.
  public var root: String
  /// The instance's name (a label on its helper, for people).
  public var instance: String
  /// How long one command may run before it is killed.
  public var commandTimeout: Duration
  /// The PID recorded on a helper as its cthulhu's (default: this process):
  /// a helper whose cthulhu is gone is a leftover.
  public var owner: Int32

  public init(via: FaultPath, root: String, instance: String, commandTimeout: Duration = .seconds(30), owner: Int32 = getpid()) {
    self.via = via
    self.root = root
    self.instance = instance
    self.commandTimeout = commandTimeout
    self.owner = owner
  }
}

extension Driver {
  /// Drivers without an engine of their own enter namespaces from the host:
  /// ``networkNamespace(id:)`` through ``HostNetns``.
  public func netnsRunner(id: String, request: NetnsRequest) async throws -> (any NetnsRunner)? {
    if request.via == .helper {
      throw DriverError(
        .unsupported,
        "\(request.instance): faults.via: helper needs a container engine to start the fault helper on (driver: docker); this driver's faults are entered from the host"
      )
    }
    return try await networkNamespace(id: id).map { HostNetns(namespace: $0) }
  }

  public func removeFaultHelpers(root: String, all: Bool) async throws -> [String] { [] }
}

import AsyncHTTPClient
import Foundation
import Manifest
import NIOCore
import NIOHTTP1

/// The engine path for network faults (``FaultPath/helper``), as Pumba does
/// it: a short-lived container started through the engine that runs the
/// instance (so on its node), in the instance's network namespace
/// (`NetworkMode: container:<id>`), with the engine's default capabilities
/// plus `NET_ADMIN` and never privileged. The enforcer's commands run in it
/// one by one (`exec`); it is removed when the fault command is done, on an
/// error, and when a command runs past its time.
///
/// It cannot outlive its cthulhu for long either: its only process is
/// `sleep 300` and the engine removes it when that ends (`AutoRemove`). Its
/// labels (``FaultHelperLabels``) let `destroy` remove every helper of a
/// fixture, and each fault command those of a cthulhu that was killed.
extension DockerDriver {
  /// Seconds a helper lives at most (its `sleep`).
  static let helperLifetime = 300

  public func netnsRunner(id: String, request: NetnsRequest) async throws -> (any NetnsRunner)? {
    let d = try await inspect(id: id)
    guard d.pid > 0, d.state == .running || d.state == .paused else { return nil }
    let host = "/proc/\(d.pid)/ns/net"
    switch request.via {
    case .host:
      return HostNetns(namespace: host)
    case .auto:
      if Self.isOnThisMachine(pid: d.pid, container: d.id) { return HostNetns(namespace: host) }
      return DockerFaultHelper(driver: self, target: d.id, request: request)
    case .helper:
      return DockerFaultHelper(driver: self, target: d.id, request: request)
    }
  }

  /// Whether the engine's container `container` runs on this machine, in
  /// this PID namespace, as process `pid`: its control group names it. An
  /// engine elsewhere (another machine, or one whose PIDs are not ours)
  /// fails this and gets the helper.
  static func isOnThisMachine(pid: Int32, container: String) -> Bool {
    guard let text = ProcFile.text("/proc/\(pid)/cgroup") else { return false }
    return text.contains(container)
  }

  /// The fault helper containers of the fixture at `root` (running or not).
  public func faultHelpers(root: String) async throws -> [ObservedContainer] {
    try await containers(labelled: "\(FaultHelperLabels.root)=\(root)", network: nil)
  }

  public func removeFaultHelpers(root: String, all: Bool) async throws -> [String] {
    var removed: [String] = []
    for c in try await faultHelpers(root: root) {
      if !all, let owner = c.labels[FaultHelperLabels.owner].flatMap(Int32.init), FaultHelperLabels.isAlive(owner) { continue }
      try await removeAndWait(id: c.id)
      removed.append(c.name)
    }
    return removed.sorted()
  }

  /// The helper image's tag on this engine, and the environment its
  /// programs need. An image labelled with this machine's source key is
  /// used as it is; otherwise the archive is made and imported.
  func ensureFaultHelperImage() async throws -> (tag: String, env: [String]) {
    let src = try await helperImages.source()
    let tag = try await helperImages.tag(engine: socket) { [self] in
      let c = try await api()
      let filter = Self.labelFilter(["\(FaultHelperImage.sourceLabel)=\(src.key)"])
      let made = try await c.json([API.ImageSummary].self, "GET", "/images/json", query: ["filters": filter])
      if let tag = made.lazy.compactMap({ $0.RepoTags?.first { $0.hasPrefix(FaultHelperImage.repository + ":") } }).first { return tag }
      let image = try await helperImages.image()
      if try await imageID(image.tag) != nil { return image.tag }
      let arch = try await c.json(API.Version.self, "GET", "/version").Arch ?? ""
      guard arch.isEmpty || arch == FaultHelperImage.hostArchitecture else {
        throw DriverError(
          .unsupported,
          "the fault helper image is made from this machine's programs (\(FaultHelperImage.hostArchitecture)), but the engine at \(socket) runs \(arch)"
        )
      }
      let colon = image.tag.firstIndex(of: ":")!
      let resp = try await c.send(
        "POST", "/images/create",
        query: [
          "fromSrc": "-", "repo": String(image.tag[..<colon]), "tag": String(image.tag[image.tag.index(after: colon)...]),
          "changes": "LABEL \(FaultHelperImage.label)=\(image.hash) \(FaultHelperImage.sourceLabel)=\(src.key)",
        ],
        body: Data(image.archive), contentType: "application/x-tar", timeout: .seconds(300))
      let fail = { (why: String) in DriverError(.imageUnavailable, "could not import the fault helper image \(image.tag): \(why)") }
      guard (200..<300).contains(Int(resp.status.code)) else { throw fail(DockerClient.engineMessage(try await c.collect(resp))) }
      try await Self.follow(c, resp) { p in if let e = p.error { throw fail(e) } }
      guard try await imageID(image.tag) != nil else { throw fail("the engine reported no image after the import") }
      return image.tag
    }
    return (tag, src.env)
  }

  /// Creates and starts a helper in the network namespace of `target`
  /// (or, `target` nil, in a fresh one of its own); returns its id.
  func startFaultHelper(target: String?, request: NetnsRequest) async throws -> String {
    let image = try await ensureFaultHelperImage()
    let name = "cthulhu-nethelper-\(request.instance)-\(UUID().uuidString.prefix(8).lowercased())"
    let body = API.CreateHelper(
      Image: image.tag, Cmd: ["/bin/sleep", String(Self.helperLifetime)], Env: image.env,
      Labels: [
        FaultHelperLabels.root: request.root, FaultHelperLabels.instance: request.instance,
        FaultHelperLabels.owner: String(request.owner),
      ],
      HostConfig: .init(NetworkMode: target.map { "container:\($0)" } ?? "none", CapAdd: ["NET_ADMIN"], AutoRemove: true))
    let c = try await api()
    let id = try await c.json(
      API.Created.self, "POST", "/containers/create", query: ["name": name], body: try JSONEncoder().encode(body),
      operation: .createContainer
    ).Id
    do {
      try await start(id: id)
    } catch {
      try? await removeAndWait(id: id)
      throw error
    }
    return id
  }

  /// Writes `data` as the file `name` into folder `path` of a running container.
  func putFile(id: String, path: String, name: String, data: [UInt8]) async throws {
    let tar = try Tar.archive(entries: [Tar.Entry(path: name, mode: 0o600, kind: .file(data))])
    try await putArchive(id: id, path: path, tar: tar, what: name)
  }

  /// Unpacks the ustar archive `tar` into folder `path` of a container
  /// (created or running), owners as the archive gives them.
  func putArchive(id: String, path: String, tar: [UInt8], what: String) async throws {
    let c = try await api()
    let resp = try await c.send(
      "PUT", "/containers/\(id)/archive", query: ["path": path], body: Data(tar), contentType: "application/x-tar")
    guard (200..<300).contains(Int(resp.status.code)) else {
      throw DockerClient.error(status: Int(resp.status.code), data: try await c.collect(resp), what: "copy \(what) into \(id.prefix(12))")
    }
  }
}

/// The labels on a fault helper container.
public enum FaultHelperLabels {
  /// The fixture folder the helper works for (what destroy looks for).
  public static let root = "io.cthulhu.fault-helper.root"
  /// The instance whose namespace it shares.
  public static let instance = "io.cthulhu.fault-helper.instance"
  /// The PID of the cthulhu that started it (on the machine cthulhu runs on).
  public static let owner = "io.cthulhu.fault-helper.owner"

  /// Whether process `pid` exists (a PID of another user's process counts).
  static func isAlive(_ pid: Int32) -> Bool {
    guard pid > 0 else { return false }
    return kill(pid, 0) == 0 || errno == EPERM
  }
}

/// A ``NetnsRunner`` through a fault helper container. The helper starts
/// with the first command and serves every command until ``close()``.
public final class DockerFaultHelper: NetnsRunner {
  let driver: DockerDriver
  /// The instance's container.
  let target: String
  let request: NetnsRequest
  private let state = HelperState()

  init(driver: DockerDriver, target: String, request: NetnsRequest) {
    self.driver = driver
    self.target = target
    self.request = request
  }

  /// Nothing to check on this side: the engine does the work.
  public func checkAccess() throws {}

  public func run(_ arguments: [String], input: String?) async throws -> HostCommand.Result {
    let id = try await state.helper { [self] in try await driver.startFaultHelper(target: target, request: request) }
    return try await execute(arguments, input: input, in: id)
  }

  public func runScratch(_ arguments: [String]) async throws -> HostCommand.Result {
    let id = try await driver.startFaultHelper(target: nil, request: request)
    do {
      let r = try await execute(arguments, input: nil, in: id)
      try? await driver.removeAndWait(id: id)
      return r
    } catch {
      try? await driver.removeAndWait(id: id)
      throw error
    }
  }

  public func close() async {
    guard let id = await state.take() else { return }
    try? await driver.removeAndWait(id: id)
  }

  /// One command in helper `id`, killed with the helper after the timeout.
  private func execute(_ arguments: [String], input: String?, in id: String) async throws -> HostCommand.Result {
    if let input {
      try await driver.putFile(id: id, path: "/tmp", name: "cthulhu-input", data: Array(input.utf8))
    }
    let command = input == nil ? arguments : ["/bin/sh", "-c", "exec \"$@\" < /tmp/cthulhu-input", "sh"] + arguments
    let (driver, limit, state) = (self.driver, request.commandTimeout, self.state)
    let expired = Expiry()
    let result = try await withThrowingTaskGroup(of: ExecResult?.self) { group in
      group.addTask { try await driver.exec(id: id, command: command) }
      group.addTask {
        try await Task.sleep(for: limit)
        // Marked first: the removal below ends the command's stream, which
        // may then answer before this task does.
        await expired.mark()
        // Removing the helper kills the command and ends its output stream;
        // the runner forgets it (a later command starts a new one).
        _ = await state.take(ifCurrent: id)
        try? await driver.removeAndWait(id: id)
        return nil
      }
      let first = try await group.next()!
      group.cancelAll()
      return first
    }
    guard let result, await !expired.marked else {
      throw OrchestratorError(
        .step,
        "\(request.instance): `\(arguments.joined(separator: " "))` did not finish within \(limit) in the fault helper, which was removed")
    }
    return HostCommand.Result(status: result.exitCode, stdout: result.stdout, stderr: result.stderr)
  }
}

/// Whether a command's time ran out.
actor Expiry {
  private(set) var marked = false
  func mark() { marked = true }
}

/// The helper container of one runner: started once, taken once.
actor HelperState {
  private var starting: Task<String, any Error>?

  func helper(_ start: @escaping @Sendable () async throws -> String) async throws -> String {
    if let starting { return try await starting.value }
    let task = Task { try await start() }
    starting = task
    do { return try await task.value } catch {
      starting = nil
      throw error
    }
  }

  /// The helper's id, forgotten here (the caller removes it); nil when none started.
  func take() async -> String? {
    guard let task = starting else { return nil }
    starting = nil
    return try? await task.value
  }

  /// ``take()``, when `id` is still this runner's helper.
  func take(ifCurrent id: String) async -> String? {
    guard let task = starting, (try? await task.value) == id else { return nil }
    starting = nil
    return id
  }
}

extension API {
  /// A fault helper's container: no name resolution, no ports, no mounts.
  struct CreateHelper: Encodable {
    var Image: String
    var Cmd: [String]
    var Env: [String]
    var Labels: [String: String]
    var HostConfig: Host
    struct Host: Encodable {
      /// `container:<id>`: the instance's network namespace; `none`: one of its own.
      var NetworkMode: String
      var CapAdd: [String]
      var AutoRemove: Bool
    }
  }

  struct Version: Decodable { var Arch: String? }
}

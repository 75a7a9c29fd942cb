import Foundation
import Manifest

/// The outside world as the orchestrator sees it: a container engine (Docker),
/// host processes, or an in-memory fake in tests.
///
/// A driver decides nothing: the planner decides, the executor calls one
/// driver method per engine operation. Every listing is filtered by the
/// fixture's labels, so nothing cthulhu did not create is ever seen as its own.
/// Keep this free of single-host assumptions: an instance's address and its
/// fault handle come from the driver.
public protocol Driver: Sendable {
  /// Containers that carry `io.cthulhu.fixture=<fixture>` (running or not).
  func containers(fixture: String) async throws -> [ObservedContainer]
  /// Containers that carry `io.cthulhu.root=<root>`, of whichever fixture:
  /// how `destroy` finds what a folder's fixture made when its state is gone.
  func containers(root: String) async throws -> [ObservedContainer]
  /// Every network the engine knows (cthulhu's and others'), so that a free
  /// subnet can be picked and collisions reported.
  func networks() async throws -> [ObservedNetwork]
  /// The local image id of `reference`, or nil when the engine does not have it.
  func imageID(_ reference: String) async throws -> String?
  /// Pulls `reference`; throws a clear error when no registry answers.
  func pull(_ reference: String) async throws -> String
  /// Builds `dockerfile` in `context` (absolute folder) and tags it `tag`.
  /// Returns the image id.
  func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String

  func createNetwork(_ spec: NetworkSpec) async throws -> String
  /// Removes the network, or throws `.conflict` while a live container is
  /// attached. What a driver may do on the way, and no more (the plan does
  /// not show it): Docker cuts endpoints that no existing container holds
  /// (a killed engine leaves them), never one a container holds; the swarm
  /// asks again while tasks let go of it, for 30 s at most
  /// (`SwarmDriver.releasePatience`), then the conflict stands.
  func removeNetwork(id: String) async throws

  /// Creates (does not start) a container; returns its id.
  func create(_ spec: ContainerSpec) async throws -> String
  /// Starts a created or stopped container. The swarm alone starts again,
  /// for 30 s at most, a container whose node dropped the fixture's overlay
  /// a moment before (it attaches anew); any other failure is thrown at once.
  func start(id: String) async throws
  /// Stops with SIGTERM, then SIGKILL after `timeout` seconds (engine default when nil).
  func stop(id: String, timeout: Int?) async throws
  func restart(id: String, timeout: Int?) async throws
  /// Sends `signal` (a name such as `HUP`, `KILL`).
  func kill(id: String, signal: String) async throws
  func pause(id: String) async throws
  func unpause(id: String) async throws
  /// Removes the container (and its anonymous volumes); `force` kills it first.
  func remove(id: String, force: Bool) async throws
  /// Live details of one container, including the host PID whose network
  /// namespace faults enter.
  func inspect(id: String) async throws -> ContainerDetails
  /// Runs `command` inside the container, waits, and returns its exit code and output.
  func exec(id: String, command: [String]) async throws -> ExecResult
  /// The container's stdout and stderr, in order, as raw lines (timestamps
  /// prefixed when `timestamps`); `follow` keeps the stream open.
  func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error>
  /// The network namespace that network faults enter for a running (or
  /// paused) instance: a path `nsenter --net=` accepts, such as
  /// `/proc/<pid>/ns/net` or `/run/netns/<name>`. Nil when the instance is
  /// not running and its namespace went with it (see ``namespaceOutlivesStop``). Throws `DriverError(.unsupported, …)` with a sentence a
  /// person can act on when this driver or mode cannot host network faults.
  func networkNamespace(id: String) async throws -> String?
  /// What runs the fault tools in the network namespace of a running (or
  /// paused) instance, by the path `request.via` asks for (see
  /// ``NetnsRunner``); nil when the instance is not running. The default
  /// enters ``networkNamespace(id:)`` from the host; an engine-backed driver
  /// may start a fault helper on the instance's node instead.
  func netnsRunner(id: String, request: NetnsRequest) async throws -> (any NetnsRunner)?
  /// A stopped instance keeps its network namespace, and the fault rules in
  /// it, until it is removed (the process driver's named namespaces), so a
  /// fault set or lifted while it is stopped must reach it then; a
  /// container's namespace goes with its process (false, the default).
  var namespaceOutlivesStop: Bool { get }
  /// Removes the fault helpers left for the fixture at `root` (by their
  /// labels): all of them (`destroy`), or (`all: false`) only those whose
  /// cthulhu is no longer running. Returns their names. Drivers that start
  /// no helpers remove nothing.
  func removeFaultHelpers(root: String, all: Bool) async throws -> [String]
  /// Removes the images built for `fixture` (they carry its label), as
  /// `destroy --rmi` asks; returns their tags (or ids). Drivers that build
  /// nothing remove nothing.
  func removeBuiltImages(fixture: String) async throws -> [String]
  /// Destroy is done with the fixture's containers and network: what the
  /// driver keeps for the fixture and no longer needs may go (the process
  /// driver's registry folder, once it holds no record: a destroy killed
  /// after the last removal left it). Best effort.
  func forget(fixture: String) async
  /// Rewrites the rendered files `files` (paths below `bindmounts`, such as
  /// `etc/config.json`, already written in the fixture folder) where the
  /// container `id` reads them: what `apply` does before the restart,
  /// signal or nothing of `on_change`. Nil: every mount whole, as when the
  /// container was made (an adopted container, which a killed apply may
  /// have left before its files were in). A driver whose instances see the
  /// fixture folder itself (bind mounts, host folders) has nothing to do.
  func refreshFiles(id: String, spec: ContainerSpec, files: [String]?) async throws
  /// Brings the output that only the engine holds into the instances' log
  /// files in the fixture folder (the swarm driver: its nodes may be other
  /// machines); best effort. Drivers whose instances write their log file
  /// themselves have nothing to bring.
  func collectLogs(ids: [String]) async
}

extension Driver {
  public var namespaceOutlivesStop: Bool { false }
  public func removeBuiltImages(fixture: String) async throws -> [String] { [] }
  public func forget(fixture: String) async {}
  public func refreshFiles(id: String, spec: ContainerSpec, files: [String]?) async throws {}
  public func collectLogs(ids: [String]) async {}
}

extension Driver {
  /// Removes a container (force) and returns once it is gone. A removal
  /// already under way (a cthulhu killed mid-step left it running in the
  /// engine) is waited for, not reported; a container already gone is fine.
  public func removeAndWait(id: String, deadline: Duration = .seconds(60)) async throws {
    do {
      try await remove(id: id, force: true)
      return
    } catch let e as DriverError where e.code == .notFound {
      return
    } catch let e as DriverError where e.code == .removalInProgress {
      let end = ContinuousClock.now + deadline
      while ContinuousClock.now < end {
        do { _ = try await inspect(id: id) } catch let e as DriverError where e.code == .notFound { return }
        try await Task.sleep(for: .milliseconds(50))
      }
      throw e
    }
  }
}

extension Driver {
  /// Why an instance's container is not running, for a person: its exit
  /// status (`with code 1`, or its state when the engine keeps none) and the
  /// last lines it logged (at most `lines`). Best effort: what cannot be
  /// read is left out, never thrown.
  public func exitReport(id: String, state: ContainerState, lines: Int = 5) async -> ExitReport {
    let code = (try? await inspect(id: id))?.exitCode
    var kept: [String] = []
    do {
      for try await line in logs(id: id, follow: false, since: nil, timestamps: false) {
        kept.append(line.text)
        if kept.count > 4 * lines { kept.removeFirst(kept.count - lines) }
      }
    } catch {}
    return ExitReport(code: code, state: state, lastLines: Array(kept.suffix(lines)))
  }
}

/// How an instance ended, as ``Driver/exitReport(id:state:lines:)`` read it.
public struct ExitReport: Sendable, Hashable {
  public var code: Int?
  public var state: ContainerState
  public var lastLines: [String]

  /// `with code 1`, or `(dead)` when no code is known.
  public var status: String { code.map { "with code \($0)" } ?? "(\(state.rawValue))" }

  /// `; the last lines it logged:` and the lines, indented, or `; it logged nothing`.
  public var logWords: String {
    lastLines.isEmpty ? "; it logged nothing" : "; the last lines it logged:\n" + lastLines.map { "  | " + $0 }.joined(separator: "\n")
  }
}

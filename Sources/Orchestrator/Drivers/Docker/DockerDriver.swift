import AsyncHTTPClient
import Foundation
import Manifest
import NIOCore
import NIOHTTP1

/// The Docker driver: the Engine API over the unix socket (`DOCKER_HOST`
/// honoured, API version negotiated). It never runs the `docker` CLI.
///
/// The owner calls ``shutdown()`` when done.
public final class DockerDriver: Driver {
  let socket: String
  private let client: Lazy
  /// The fault helper's image, made once per process and imported once per engine.
  let helperImages = FaultHelperImageCache()

  /// Prepares a driver for `DOCKER_HOST` (default `unix:///var/run/docker.sock`);
  /// the engine is first contacted by the first call.
  public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
    socket = try DockerClient.socketPath(from: environment)
    client = Lazy(socket: socket)
  }

  public func shutdown() async throws { try await client.shutdown() }

  func api() async throws -> DockerClient { try await client.get() }

  /// Connects on first use; concurrent first calls share one connection.
  /// A connection that failed is not kept: the next call connects again
  /// (the engine may be back).
  actor Lazy {
    let socket: String
    var connecting: Task<DockerClient, any Error>?
    init(socket: String) { self.socket = socket }
    func get() async throws -> DockerClient {
      let task: Task<DockerClient, any Error>
      if let connecting {
        task = connecting
      } else {
        let socket = socket
        task = Task { try await DockerClient.connect(socket: socket) }
        connecting = task
      }
      do {
        return try await task.value
      } catch {
        if connecting == task { connecting = nil }
        throw error
      }
    }
    func shutdown() async throws {
      guard let task = connecting else { return }
      connecting = nil
      if let c = try? await task.value { try await c.shutdown() }
    }
  }

  static func labelFilter(_ pairs: [String]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: ["label": pairs])
    return String(decoding: data, as: UTF8.self)
  }

  public func containers(fixture: String) async throws -> [ObservedContainer] {
    try await containers(labelled: "\(Labels.fixture)=\(fixture)", network: Naming.network(fixture))
  }

  public func containers(root: String) async throws -> [ObservedContainer] {
    try await containers(labelled: "\(Labels.root)=\(root)", network: nil)
  }

  func containers(labelled label: String, network: String?) async throws -> [ObservedContainer] {
    let list = try await api().json(
      [API.ContainerSummary].self, "GET", "/containers/json",
      query: ["all": "1", "filters": Self.labelFilter([label])])
    return list.map { c in
      let status = c.Status ?? ""
      let health =
        status.contains("(healthy)")
        ? "healthy" : status.contains("(unhealthy)") ? "unhealthy" : status.contains("health: starting") ? "starting" : nil
      let ip = Self.address(
        c.NetworkSettings?.Networks, preferring: network ?? c.Labels?[Labels.fixture].map(Naming.network))
      let ports = (c.Ports ?? []).filter { $0.PublicPort != nil && ($0.IP == nil || !$0.IP!.contains(":")) }.map {
        PortBinding(container: $0.PrivatePort, proto: $0.Type ?? "tcp", host: $0.PublicPort)
      }
      return ObservedContainer(
        id: c.Id, name: String((c.Names?.first ?? c.Id).drop { $0 == "/" }), image: c.Image ?? "",
        imageID: c.ImageID ?? "", state: ContainerState(rawValue: c.State ?? "") ?? .dead, health: health,
        labels: c.Labels ?? [:], ports: Self.unique(ports), ip: ip)
    }
  }

  /// The address on `network`, else on the only network with one (a
  /// container attached elsewhere than the fixture's network still shows its IP).
  static func address(_ networks: [String: API.Endpoint]?, preferring network: String?) -> IPv4Address? {
    guard let networks else { return nil }
    if let network, let ip = networks[network]?.IPAddress.flatMap({ IPv4Address($0) }) { return ip }
    let all = networks.values.compactMap { $0.IPAddress.flatMap { IPv4Address($0) } }
    return all.count == 1 ? all[0] : nil
  }

  static func unique(_ p: [PortBinding]) -> [PortBinding] {
    var seen = Set<PortBinding>()
    return p.filter { seen.insert($0).inserted }.sorted { ($0.container, $0.proto) < ($1.container, $1.proto) }
  }

  public func networks() async throws -> [ObservedNetwork] {
    try await api().json([API.Network].self, "GET", "/networks").map { n in
      ObservedNetwork(
        id: n.Id, name: n.Name, subnets: (n.IPAM?.Config ?? []).compactMap { $0.Subnet.flatMap { IPv4Network($0) } },
        labels: n.Labels ?? [:])
    }
  }

  public func createNetwork(_ spec: NetworkSpec) async throws -> String {
    let body = API.CreateNetwork(
      Name: spec.name, IPAM: .init(Config: [.init(Subnet: spec.subnet.description, Gateway: spec.gateway.description)]),
      Labels: spec.labels)
    return try await api().json(
      API.Created.self, "POST", "/networks/create", body: try JSONEncoder().encode(body), operation: .createNetwork
    ).Id
  }

  public func removeNetwork(id: String) async throws {
    let c = try await api()
    do {
      try await c.call("DELETE", "/networks/\(id)", what: "remove network \(id)")
    } catch let e as DriverError where e.code == .conflict {
      // A dockerd killed mid-start can leave an endpoint that no container
      // holds any more ("has active endpoints", until the daemon's next
      // restart cleans it). Such endpoints are cut; one a container still
      // holds is not cthulhu's to cut, and the conflict stands.
      guard try await disconnectOrphanEndpoints(network: id, c) else { throw e }
      try await c.call("DELETE", "/networks/\(id)", what: "remove network \(id)")
    }
  }

  /// Force-disconnects the endpoints of `network` whose containers do not
  /// exist; true when it had some and no endpoint of a live container.
  private func disconnectOrphanEndpoints(network: String, _ c: DockerClient) async throws -> Bool {
    let attached = try await c.json(API.Network.self, "GET", "/networks/\(network)").Containers ?? [:]
    var orphans: [String] = []
    for (container, endpoint) in attached {
      do {
        _ = try await inspect(id: container)
        return false
      } catch let e as DriverError where e.code == .notFound {
        orphans.append(endpoint.Name ?? container)
      }
    }
    for name in orphans {
      try await c.call(
        "POST", "/networks/\(network)/disconnect", body: try JSONEncoder().encode(API.NetworkDisconnect(Container: name, Force: true)),
        what: "disconnect the orphan endpoint \(name) from network \(network.prefix(12))")
    }
    return !orphans.isEmpty
  }

  public func create(_ spec: ContainerSpec) async throws -> String {
    var bindings: [String: [API.CreateContainer.Binding]] = [:]
    var exposed: [String: API.CreateContainer.Empty] = [:]
    for p in spec.ports {
      let key = "\(p.container)/\(p.proto)"
      exposed[key] = .init()
      bindings[key, default: []].append(.init(HostPort: p.host.map(String.init) ?? ""))
    }
    let body = API.CreateContainer(
      Image: spec.image, Cmd: spec.command, Env: spec.env, Hostname: spec.hostname, User: spec.user, Labels: spec.labels,
      StopTimeout: spec.stopTimeout,
      Healthcheck: spec.healthcheck.map {
        .init(Test: ["CMD"] + $0.test, Interval: $0.interval, Timeout: $0.timeout, Retries: $0.retries, StartPeriod: $0.startPeriod)
      },
      ExposedPorts: exposed,
      HostConfig: .init(
        Binds: spec.binds.map { "\($0.host):\($0.container)\($0.readOnly ? ":ro" : "")" }, Memory: spec.memory,
        MemorySwap: spec.memory, NanoCpus: spec.nanoCPUs, PortBindings: bindings, NetworkMode: spec.network),
      NetworkingConfig: .init(EndpointsConfig: [
        spec.network: .init(IPAMConfig: .init(IPv4Address: spec.ip.description), Aliases: spec.aliases)
      ]))
    return try await api().json(
      API.Created.self, "POST", "/containers/create", query: ["name": spec.name], body: try JSONEncoder().encode(body),
      operation: .createContainer
    ).Id
  }

  public func start(id: String) async throws {
    try await api().call("POST", "/containers/\(id)/start", ok: [304], operation: .startContainer, what: "start \(id.prefix(12))")
  }

  public func stop(id: String, timeout: Int?) async throws {
    try await api().call(
      "POST", "/containers/\(id)/stop", query: timeout.map { ["t": String($0)] } ?? [:], ok: [304],
      timeout: .seconds(Int64(timeout ?? 10) + 60), what: "stop \(id.prefix(12))")
  }

  public func restart(id: String, timeout: Int?) async throws {
    try await api().call(
      "POST", "/containers/\(id)/restart", query: timeout.map { ["t": String($0)] } ?? [:],
      timeout: .seconds(Int64(timeout ?? 10) + 60), operation: .startContainer, what: "restart \(id.prefix(12))")
  }

  public func kill(id: String, signal: String) async throws {
    try await api().call("POST", "/containers/\(id)/kill", query: ["signal": signal], what: "kill \(id.prefix(12))")
  }

  public func pause(id: String) async throws {
    try await api().call("POST", "/containers/\(id)/pause", what: "pause \(id.prefix(12))")
  }

  public func unpause(id: String) async throws {
    try await api().call("POST", "/containers/\(id)/unpause", what: "unpause \(id.prefix(12))")
  }

  public func remove(id: String, force: Bool) async throws {
    try await api().call(
      "DELETE", "/containers/\(id)", query: ["force": force ? "1" : "0", "v": "1"], operation: .removeContainer(force: force),
      what: "remove \(id.prefix(12))")
  }

  public func inspect(id: String) async throws -> ContainerDetails {
    let i = try await api().json(API.Inspect.self, "GET", "/containers/\(id)/json")
    let labels = i.Config?.Labels ?? [:]
    let net = labels[Labels.fixture].map(Naming.network)
    var ports: [PortBinding] = []
    for (key, hosts) in i.NetworkSettings?.Ports ?? [:] {
      let parts = key.split(separator: "/")
      guard let container = Int(parts.first ?? ""), let hosts else { continue }
      for h in hosts {
        if let hp = h.HostPort.flatMap(Int.init) {
          ports.append(PortBinding(container: container, proto: parts.count > 1 ? String(parts[1]) : "tcp", host: hp))
        }
      }
    }
    let started = i.State.StartedAt.flatMap { s -> Date? in
      let f = ISO8601DateFormatter()
      f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
      return f.date(from: s) ?? ISO8601DateFormatter().date(from: s)
    }
    return ContainerDetails(
      id: i.Id, state: ContainerState(rawValue: i.State.Status) ?? .dead, health: i.State.Health?.Status,
      pid: i.State.Pid ?? 0, exitCode: i.State.ExitCode, startedAt: started,
      ip: Self.address(i.NetworkSettings?.Networks, preferring: net),
      ports: Self.unique(ports), labels: labels)
  }

  public func networkNamespace(id: String) async throws -> String? {
    let d = try await inspect(id: id)
    return d.pid > 0 ? "/proc/\(d.pid)/ns/net" : nil
  }

  public func exec(id: String, command: [String]) async throws -> ExecResult {
    let c = try await api()
    let exec = try await c.json(
      API.Created.self, "POST", "/containers/\(id)/exec", body: try JSONEncoder().encode(API.ExecCreate(Cmd: command)))
    let resp = try await c.send("POST", "/exec/\(exec.Id)/start", body: try JSONEncoder().encode(API.ExecStart()), timeout: .seconds(600))
    guard (200..<300).contains(Int(resp.status.code)) else {
      throw DockerClient.error(status: Int(resp.status.code), data: try await c.collect(resp), what: "exec in \(id.prefix(12))")
    }
    var demux = StreamDemuxer()
    var out: [UInt8] = []
    var err: [UInt8] = []
    for try await chunk in c.body(resp) {
      for frame in demux.feed(Array(chunk.readableBytesView)) {
        if frame.stream == .stderr { err += frame.payload } else { out += frame.payload }
      }
    }
    let info = try await c.json(API.ExecInspect.self, "GET", "/exec/\(exec.Id)/json")
    return ExecResult(exitCode: info.ExitCode ?? -1, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
  }

  public func logs(id: String, follow: Bool, since: Date?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    logs(id: id, follow: follow, sinceQuery: since.map { String(format: "%.6f", $0.timeIntervalSince1970) }, timestamps: timestamps)
  }

  /// ``logs(id:follow:since:timestamps:)`` with `since` as the engine takes
  /// it: UNIX seconds, a fraction optional (`1733137200.123456789`).
  func logs(id: String, follow: Bool, sinceQuery: String?, timestamps: Bool) -> AsyncThrowingStream<LogLine, any Error> {
    AsyncThrowingStream { continuation in
      let task = Task {
        do {
          let c = try await api()
          var query = ["stdout": "1", "stderr": "1", "follow": follow ? "1" : "0", "timestamps": timestamps ? "1" : "0"]
          if let sinceQuery { query["since"] = sinceQuery }
          let resp = try await c.send("GET", "/containers/\(id)/logs", query: query, timeout: .hours(24 * 365))
          guard (200..<300).contains(Int(resp.status.code)) else {
            throw DockerClient.error(status: Int(resp.status.code), data: try await c.collect(resp), what: "logs of \(id.prefix(12))")
          }
          var demux = StreamDemuxer()
          var partial: [LogLine.Stream: [UInt8]] = [:]
          for try await chunk in c.body(resp) {
            for frame in demux.feed(Array(chunk.readableBytesView)) {
              var buf = partial[frame.stream, default: []] + frame.payload
              while let nl = buf.firstIndex(of: 10) {
                continuation.yield(LogLine(stream: frame.stream, text: String(decoding: buf[..<nl], as: UTF8.self)))
                buf.removeSubrange(...nl)
              }
              partial[frame.stream] = buf
            }
          }
          for (s, rest) in partial where !rest.isEmpty { continuation.yield(LogLine(stream: s, text: String(decoding: rest, as: UTF8.self))) }
          continuation.finish()
        } catch {
          continuation.finish(throwing: error)
        }
      }
      continuation.onTermination = { _ in task.cancel() }
    }
  }
}

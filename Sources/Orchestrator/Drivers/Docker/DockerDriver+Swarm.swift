import Foundation
import Manifest

/// What the swarm driver asks a manager's engine: its nodes, and an
/// attachable overlay network (Engine API 1.41).
extension DockerDriver {
  /// The swarm's nodes, as the manager lists them.
  func swarmNodes() async throws -> [API.SwarmNode] {
    try await api().json([API.SwarmNode].self, "GET", "/nodes")
  }

  /// An overlay network that standalone containers on any node can join
  /// (`Attachable`), with the fixture's fixed subnet, so every instance
  /// keeps its own address wherever it runs. The engine allocates the
  /// addresses it picks itself (each node's load-balancer endpoint on the
  /// network) from `nodeRange` only, which instances never take.
  func createOverlayNetwork(_ spec: NetworkSpec, nodeRange: IPv4Network) async throws -> String {
    let body = API.CreateNetwork(
      Name: spec.name, Driver: "overlay", Attachable: true,
      IPAM: .init(Config: [
        .init(Subnet: spec.subnet.description, Gateway: spec.gateway.description, IPRange: nodeRange.description)
      ]), Labels: spec.labels)
    return try await api().json(
      API.Created.self, "POST", "/networks/create", body: try JSONEncoder().encode(body), operation: .createNetwork
    ).Id
  }
}

extension DockerDriver {
  /// Makes and starts a container that does nothing but hold `network` on
  /// this engine (`sleep` of `image`, its entrypoint cleared, no fixed
  /// address: the engine picks one from the network's node range). A
  /// container of that name already there is started, if it is not running.
  func startAnchor(name: String, image: String, network: String, labels: [String: String]) async throws {
    let body = API.CreateContainer(
      Image: image, Entrypoint: [], Cmd: ["sleep", "2147483647"], Env: [], Hostname: "anchor", User: nil, Labels: labels,
      StopTimeout: 1, Healthcheck: nil, ExposedPorts: [:],
      HostConfig: .init(Binds: [], Memory: 16 << 20, MemorySwap: 16 << 20, NanoCpus: nil, PortBindings: [:], NetworkMode: network),
      NetworkingConfig: .init(EndpointsConfig: [:]))
    var id: String
    do {
      id = try await api().json(
        API.Created.self, "POST", "/containers/create", query: ["name": name], body: try JSONEncoder().encode(body),
        operation: .createContainer
      ).Id
    } catch let e as DriverError where e.code == .nameInUse {
      id = name
    }
    try await start(id: id)
  }
}

extension API {
  /// One node of `GET /nodes`.
  struct SwarmNode: Decodable {
    var ID: String
    var Spec: NodeSpec
    var Description: NodeDescription?
    var Status: NodeStatus?
    struct NodeSpec: Decodable {
      var Labels: [String: String]?
      var Availability: String?
    }
    struct NodeDescription: Decodable { var Hostname: String? }
    struct NodeStatus: Decodable {
      var State: String?
      var Addr: String?
    }
  }
}

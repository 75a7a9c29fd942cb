import Foundation

/// What the swarm driver asks a manager's engine: its nodes, and an
/// attachable overlay network (Engine API 1.41).
extension DockerDriver {
  /// The swarm's nodes, as the manager lists them.
  func swarmNodes() async throws -> [API.SwarmNode] {
    try await api().json([API.SwarmNode].self, "GET", "/nodes")
  }

  /// An overlay network that standalone containers on any node can join
  /// (`Attachable`), with the fixture's fixed subnet, so every instance
  /// keeps its own address wherever it runs.
  func createOverlayNetwork(_ spec: NetworkSpec) async throws -> String {
    let body = API.CreateNetwork(
      Name: spec.name, Driver: "overlay", Attachable: true,
      IPAM: .init(Config: [.init(Subnet: spec.subnet.description, Gateway: spec.gateway.description)]), Labels: spec.labels)
    return try await api().json(
      API.Created.self, "POST", "/networks/create", body: try JSONEncoder().encode(body), operation: .createNetwork
    ).Id
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

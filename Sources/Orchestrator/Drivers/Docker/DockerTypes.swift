import Foundation

/// Request and response bodies of the Engine API (v1.41), only the fields cthulhu uses.
enum API {
  struct ContainerSummary: Decodable {
    var Id: String
    var Names: [String]?
    var Image: String?
    var ImageID: String?
    var State: String?
    var Status: String?
    var Labels: [String: String]?
    var Ports: [Port]?
    var NetworkSettings: Networks?
    struct Port: Decodable {
      var PrivatePort: Int
      var PublicPort: Int?
      var `Type`: String?
      var IP: String?
    }
    struct Networks: Decodable { var Networks: [String: Endpoint]? }
  }

  struct Endpoint: Decodable { var IPAddress: String? }

  struct Network: Decodable {
    var Id: String
    var Name: String
    var Labels: [String: String]?
    var IPAM: IPAMInfo?
    /// Only in an inspect: the endpoints, by the id of the container that holds each.
    var Containers: [String: Attached]?
    struct IPAMInfo: Decodable { var Config: [Pool]? }
    struct Pool: Decodable { var Subnet: String? }
    /// `Name` is the endpoint's, which a forced disconnect takes.
    struct Attached: Decodable { var Name: String? }
  }

  struct NetworkDisconnect: Encodable {
    var Container: String
    var Force: Bool
  }

  struct CreateNetwork: Encodable {
    var Name: String
    var Driver = "bridge"
    /// Overlay only: standalone containers may join it.
    var Attachable: Bool? = nil
    var CheckDuplicate = true
    var IPAM: IPAM
    var Labels: [String: String]
    struct IPAM: Encodable { var Config: [Pool] }
    struct Pool: Encodable {
      var Subnet: String
      var Gateway: String
      /// Where the engine allocates addresses of its own choosing (overlay: the nodes').
      var IPRange: String? = nil
    }
  }

  struct Created: Decodable { var Id: String }

  struct CreateContainer: Encodable {
    var Image: String
    /// Only to override the image's (`[]` clears it); nil is not sent.
    var Entrypoint: [String]? = nil
    var Cmd: [String]?
    var Env: [String]
    var Hostname: String
    /// `alice`, `1000`, `1000:1000`: resolved by the engine in the image's
    /// /etc/passwd and /etc/group; nil (not sent) is the image's user.
    var User: String?
    var Labels: [String: String]
    var StopTimeout: Int?
    var Healthcheck: Health?
    var ExposedPorts: [String: Empty]
    var HostConfig: Host
    var NetworkingConfig: Networking
    struct Empty: Encodable {}
    struct Health: Encodable {
      var Test: [String]
      var Interval: Int64
      var Timeout: Int64
      var Retries: Int
      var StartPeriod: Int64
    }
    struct Host: Encodable {
      var Binds: [String]
      var Memory: Int64?
      var MemorySwap: Int64?
      var NanoCpus: Int64?
      var PortBindings: [String: [Binding]]
      var NetworkMode: String
      var Init = false
    }
    struct Binding: Encodable { var HostPort: String }
    struct Networking: Encodable { var EndpointsConfig: [String: EndpointConfig] }
    struct EndpointConfig: Encodable {
      var IPAMConfig: IPAMConfig
      var Aliases: [String]
    }
    struct IPAMConfig: Encodable { var IPv4Address: String }
  }

  struct Inspect: Decodable {
    var Id: String
    var State: StateInfo
    var Config: Config?
    var NetworkSettings: Settings?
    struct StateInfo: Decodable {
      var Status: String
      var Pid: Int32?
      var ExitCode: Int?
      var StartedAt: String?
      var Health: HealthInfo?
    }
    struct HealthInfo: Decodable { var Status: String? }
    struct Config: Decodable { var Labels: [String: String]? }
    struct Settings: Decodable {
      var Networks: [String: Endpoint]?
      var Ports: [String: [HostPort]?]?
    }
    struct HostPort: Decodable { var HostPort: String? }
  }

  struct ImageInspect: Decodable { var Id: String }
  struct ImageSummary: Decodable {
    var Id: String
    var RepoTags: [String]?
  }

  struct ExecCreate: Encodable {
    var AttachStdout = true
    var AttachStderr = true
    var Cmd: [String]
  }
  struct ExecStart: Encodable { var Detach = false; var Tty = false }
  struct ExecInspect: Decodable { var ExitCode: Int32?; var Running: Bool? }

  /// One line of a build or pull progress stream.
  struct Progress: Decodable {
    var stream: String?
    var error: String?
    var aux: Aux?
    struct Aux: Decodable { var ID: String? }
  }
}

import Foundation

/// One group of identical instances (`groups.<name>`).
public struct Group: Sendable, Hashable {
  public var name: String
  /// Where the group's `name:` key stands in the manifest.
  public var location: SourceLocation
  public var source: ImageSource
  public var count: Int
  /// `command:` as an argument vector; a string in the manifest becomes
  /// `["/bin/sh", "-c", string]`. `nil`: the image's own command.
  public var command: [String]?
  /// `env:`, in file order.
  public var env: [(key: String, value: String)]
  /// `mounts:`, in file order; default `etc: /opt/app/etc`, `var: /opt/app/var`.
  public var mounts: [Mount]
  /// `templates:`: rendered per instance with Stencil.
  public var templates: [FileSpec]
  /// `files:`: copied as they are.
  public var files: [FileSpec]
  public var ports: [PortSpec]
  public var healthcheck: Healthcheck?
  /// `memory:` in bytes.
  public var memory: Int64?
  /// `cpus:`, e.g. 0.5.
  public var cpus: Double?
  /// `stop_timeout:` (engine default when nil).
  public var stopTimeout: Duration?
  public var onChange: OnChange
  /// `depends_on:` group names, started and healthy first.
  public var dependsOn: [String]
  /// `run_once: true`: the instances are meant to run and exit (a setup job,
  /// a client). Exiting with code 0 is their success; they are not started
  /// again by later applies. Without it, an instance that exits right after
  /// its start fails the apply.
  public var runOnce = false
  /// `clock_skew: true`: the instances start with libfaketime preloaded, so
  /// that `cthulhu clock skew` can move their wall clock while they run.
  public var clockSkew = false
  /// Where each `depends_on` entry stands, in the same order (empty for a
  /// group made in code).
  public var dependsOnLocations: [SourceLocation] = []
  /// `user:`: who the group's instances run as; nil leaves it to the driver
  /// (Docker: the image's user; process driver: see docs/manifest.md).
  public var user: UserSpec?
  /// `membership:`: the instances form a cluster that is told when one
  /// joins or leaves (see ``Membership``); nil: scaling just adds or removes.
  public var membership: Membership?

  public init(
    name: String, location: SourceLocation = .unknown, source: ImageSource, count: Int = 1,
    command: [String]? = nil, env: [(key: String, value: String)] = [],
    mounts: [Mount] = Mount.defaults, templates: [FileSpec] = [], files: [FileSpec] = [],
    ports: [PortSpec] = [], healthcheck: Healthcheck? = nil, memory: Int64? = nil,
    cpus: Double? = nil, stopTimeout: Duration? = nil, onChange: OnChange = .restart,
    dependsOn: [String] = [], user: UserSpec? = nil
  ) {
    self.name = name
    self.location = location
    self.source = source
    self.count = count
    self.command = command
    self.env = env
    self.mounts = mounts
    self.templates = templates
    self.files = files
    self.ports = ports
    self.healthcheck = healthcheck
    self.memory = memory
    self.cpus = cpus
    self.stopTimeout = stopTimeout
    self.onChange = onChange
    self.dependsOn = dependsOn
    self.user = user
  }

  public static func == (a: Group, b: Group) -> Bool {
    a.name == b.name && a.source == b.source && a.count == b.count && a.command == b.command
      && a.env.map(\.key) == b.env.map(\.key) && a.env.map(\.value) == b.env.map(\.value)
      && a.mounts == b.mounts && a.templates == b.templates && a.files == b.files
      && a.ports == b.ports && a.healthcheck == b.healthcheck && a.memory == b.memory
      && a.cpus == b.cpus && a.stopTimeout == b.stopTimeout && a.onChange == b.onChange
      && a.dependsOn == b.dependsOn && a.user == b.user && a.runOnce == b.runOnce
      && a.clockSkew == b.clockSkew && a.membership == b.membership
  }

  public func hash(into h: inout Hasher) {
    h.combine(name)
    h.combine(count)
  }
}

/// `user:` as compose reads it: a user (name or uid), optionally with a
/// group (name or gid): `alice`, `1000`, `alice:staff`, `1000:1000`.
public struct UserSpec: Sendable, Hashable {
  /// A name to look up, or a number taken as it is.
  public enum ID: Sendable, Hashable, CustomStringConvertible {
    case name(String)
    case number(UInt32)

    public var description: String {
      switch self {
      case .name(let n): n
      case .number(let n): String(n)
      }
    }
  }

  public var user: ID
  public var group: ID?
  /// Where the value stands in the manifest (in `defaults:` when it came from there).
  public var location: SourceLocation

  public init(user: ID, group: ID? = nil, location: SourceLocation = .unknown) {
    self.user = user
    self.group = group
    self.location = location
  }

  /// As written, normalised: `alice`, `1000:1000`.
  public var text: String { group.map { "\(user):\($0)" } ?? user.description }

  /// Equal when they name the same user and group, wherever they were written.
  public static func == (a: UserSpec, b: UserSpec) -> Bool { a.user == b.user && a.group == b.group }
  public func hash(into h: inout Hasher) {
    h.combine(user)
    h.combine(group)
  }
}

public enum ImageSource: Sendable, Hashable {
  /// `image: name:tag`
  case image(String)
  /// `build: {context, dockerfile}`: `context` absolute, `dockerfile` relative
  /// to it (default `Dockerfile`).
  case build(context: String, dockerfile: String)
}

/// A named bind mount: `<fixture>/<ip>/bindmounts/<name>` on the host,
/// `path` inside the instance. With `faults`, the instance sees the folder
/// through cthulhu's disk layer (a FUSE file system at
/// `<fixture>/<ip>/disk/<name>` whose files are kept in `bindmounts/<name>`),
/// which can lose what was not fsynced, delay and fail operations.
public struct Mount: Sendable, Hashable, Codable {
  public var name: String
  public var path: String
  public var faults: Bool
  public init(name: String, path: String, faults: Bool = false) {
    self.name = name
    self.path = path
    self.faults = faults
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    path = try c.decode(String.self, forKey: .path)
    faults = try c.decodeIfPresent(Bool.self, forKey: .faults) ?? false
  }
  public static let defaults = [Mount(name: "etc", path: "/opt/app/etc"), Mount(name: "var", path: "/opt/app/var")]
}

/// A template or static file: `source` (absolute on the host) to `target`
/// (`<mount>/<relative path>`).
public struct FileSpec: Sendable, Hashable {
  public var source: String
  /// Mount name: the first component of `target`.
  public var mount: String
  /// Path below the mount, never absolute, never containing `..`.
  public var path: String
  /// File mode, e.g. 0o644 (default 0o644).
  public var mode: Int
  public var location: SourceLocation

  public init(source: String, mount: String, path: String, mode: Int = 0o644, location: SourceLocation = .unknown) {
    self.source = source
    self.mount = mount
    self.path = path
    self.mode = mode
    self.location = location
  }

  /// `target` as written: `etc/config.json`.
  public var target: String { mount + "/" + path }
}

/// `ports:` entry. `"30000:8080"`: host port 30000 for the group's first
/// instance, 30001 for its second, …; `8080`: the engine picks a host port.
public struct PortSpec: Sendable, Hashable {
  public var hostStart: Int?
  public var container: Int
  public var proto: PortProtocol
  /// Where the entry stands in `ports:`.
  public var location: SourceLocation
  public init(hostStart: Int? = nil, container: Int, proto: PortProtocol = .tcp, location: SourceLocation = .unknown) {
    self.hostStart = hostStart
    self.container = container
    self.proto = proto
    self.location = location
  }

  /// Equal when they publish the same ports, wherever they were written.
  public static func == (a: PortSpec, b: PortSpec) -> Bool {
    a.hostStart == b.hostStart && a.container == b.container && a.proto == b.proto
  }
  public func hash(into h: inout Hasher) {
    h.combine(hostStart)
    h.combine(container)
    h.combine(proto)
  }
}

public enum PortProtocol: String, Sendable, Hashable, Codable {
  case tcp, udp
}

public struct Healthcheck: Sendable, Hashable {
  /// Run inside the instance (exec form); exit 0 means healthy.
  public var command: [String]
  public var interval: Duration
  public var timeout: Duration
  public var retries: Int
  public var startPeriod: Duration
  public init(
    command: [String], interval: Duration = .seconds(1), timeout: Duration = .seconds(5),
    retries: Int = 30, startPeriod: Duration = .zero
  ) {
    self.command = command
    self.interval = interval
    self.timeout = timeout
    self.retries = retries
    self.startPeriod = startPeriod
  }
}

/// What `apply` does to a running instance whose rendered files changed:
/// the manifest's `on_change`, and an `update` step's `effect` in a plan.
/// Written as the manifest spells it: `restart`, `none`, `signal:HUP`.
public enum OnChange: Sendable, Hashable, Codable, CustomStringConvertible {
  case restart
  case none
  /// `signal:HUP`: name without the `SIG` prefix, upper case.
  case signal(String)

  public var description: String {
    switch self {
    case .restart: "restart"
    case .none: "none"
    case .signal(let s): "signal:" + s
    }
  }

  public init(from decoder: any Decoder) throws {
    let s = try decoder.singleValueContainer().decode(String.self)
    switch s {
    case "restart": self = .restart
    case "none": self = .none
    case _ where s.hasPrefix("signal:"): self = .signal(String(s.dropFirst(7)))
    default: throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown on_change '\(s)'"))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

/// A free template value (`vars:`), as YAML wrote it after the core schema.
public indirect enum Value: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case list([Value])
  case map([String: Value], order: [String])
}

/// 1-based line and column in a manifest file.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int
  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }
  public static let unknown = SourceLocation(file: "", line: 0, column: 0)
  public var description: String { "\(file):\(line):\(column)" }
}

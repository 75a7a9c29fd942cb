import Manifest

/// Where things live in a fixture folder (the original tool's shape).
public struct FixturePaths: Sendable, Hashable {
  public var root: String
  public init(root: String) { self.root = root }

  /// `<root>/<ip>`
  public func instanceFolder(ip: IPv4Address) -> String { root + "/" + ip.description }
  /// `<root>/<ip>/bindmounts/<mount>`
  public func mountFolder(ip: IPv4Address, mount: String) -> String { instanceFolder(ip: ip) + "/bindmounts/" + mount }
  /// `<root>/<ip>/bindmounts/<file path>`
  public func file(ip: IPv4Address, path: String) -> String { instanceFolder(ip: ip) + "/bindmounts/" + path }
  /// `<root>/i001` → `<ip>`
  public func link(name: String) -> String { root + "/" + name }
  public var spec: String { root + "/spec.json" }
  /// Fixture-wide facts (name, driver, subnet, instances), beside `spec.json`.
  public var fixtureInfo: String { root + "/fixture.json" }
  public var control: String { root + "/control" }
  public var events: String { root + "/events.jsonl" }
  /// Client operations recorded by `cthulhu op`, for `cthulhu check`.
  public var history: String { root + "/history.jsonl" }
  /// The file an instance appends its properties to (`CTHULHU_ASSERTIONS`), in its `var` mount.
  public static let assertionsFile = "cthulhu-assertions.jsonl"
  /// `<root>/<ip>/bindmounts/var/cthulhu-assertions.jsonl`: where a run reads an instance's properties.
  public func assertions(ip: IPv4Address) -> String { mountFolder(ip: ip, mount: "var") + "/" + Self.assertionsFile }
  public var stateFolder: String { root + "/.cthulhu" }
  public var lock: String { root + "/.cthulhu/lock" }

  /// The folder of `cthulhu test`'s runs in a root: kept by `destroy`, and
  /// a root holding only it (and `.cthulhu`) is adopted as empty.
  public static let runs = "runs"

  /// The fixture-wide entries cthulhu writes in a root (besides `.cthulhu`).
  public static let fixtureFiles = ["control", "spec.json", "fixture.json", "events.jsonl", "history.jsonl"]
}

import Foundation
import Manifest

/// What the manifest asks for, resolved: every instance with its name,
/// address, rendered files and container spec. Pure data, made without
/// touching the engine.
public struct DesiredFixture: Sendable {
  public var fixture: String
  public var root: String
  public var driver: DriverKind
  public var network: NetworkSpec
  /// Images to build, by group, with the tag that names the context's hash.
  public var builds: [DesiredBuild]
  /// In name order.
  public var instances: [DesiredInstance]
  /// The groups with `membership:`, by name.
  public var membership: [String: Membership] = [:]
  /// The manifest's `vars:`, for the membership commands.
  public var vars: [String: Value] = [:]

  /// A scan: for a look-up per instance, build ``byName`` once.
  public func instance(named name: String) -> DesiredInstance? { instances.first { $0.name == name } }

  /// The instances by name (O(N), once).
  public var byName: [String: DesiredInstance] {
    Dictionary(instances.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }
}

public struct DesiredBuild: Sendable, Hashable {
  public var group: String
  public var context: String
  public var dockerfile: String
  /// `cthulhu-<fixture>-<group>:<context hash, 12 hex>`.
  public var tag: String
}

public struct DesiredInstance: Sendable, Hashable {
  public var name: String
  public var group: String
  public var ip: IPv4Address
  /// Place in its group, from 0.
  public var index: Int
  /// The number in its name (1 for i001).
  public var ordinal: Int
  public var container: ContainerSpec
  /// Rendered templates and copied files, by path below `bindmounts/`.
  public var files: [RenderedFile]
  public var onChange: OnChange
  public var dependsOnGroups: [String]
  public var hasHealthcheck: Bool
  /// The group's `run_once`: exiting is this instance's way to finish.
  public var runOnce = false
  /// Hash of the container spec (image id included, files excluded).
  public var specHash: String
  /// Hash of every rendered file's path, mode and content.
  public var filesHash: String
  /// Who it runs as (nil: Docker's image default).
  public var runAs: RunAs? = nil
  /// Who its mount folders are given to (only when cthulhu runs as root).
  public var owner: FileOwner? = nil
  /// The mounts it sees through a disk layer (`faults: true`), by name.
  public var diskMounts: [String] = []
  /// How it came into its cluster, for a group with `membership:`.
  public var membership: MemberContext? = nil
}

public struct RenderedFile: Sendable, Hashable {
  /// `etc/config.json`: the mount name, then the path below it.
  public var path: String
  public var mode: Int
  public var content: Data
  public var sha256: String
  /// What a reviewer should be told made it (template source).
  public var source: String
}

/// Instance names: `i001` … `i999`, then `i1000` and up.
public enum InstanceName {
  public static func make(_ ordinal: Int) -> String {
    ordinal < 1000 ? "i" + String(repeating: "0", count: 3 - String(ordinal).count) + String(ordinal) : "i\(ordinal)"
  }

  public static func ordinal(_ name: String) -> Int? {
    guard name.first == "i", let n = Int(name.dropFirst()), n > 0 else { return nil }
    return n
  }
}

import Foundation

/// Decodes the node tree into a ``Manifest`` and validates it.
final class ManifestDecoder {
  let reader = Reader()
  let file: String
  let path: String
  var directory: String { (path as NSString).deletingLastPathComponent }

  static let topKeys = ["fixture", "driver", "root", "network", "faults", "vars", "defaults", "groups", "nemesis", "workloads"]
  static let groupKeys = [
    "image", "build", "count", "command", "env", "mounts", "templates", "files", "ports", "healthcheck",
    "memory", "cpus", "stop_timeout", "on_change", "depends_on", "user",
    "run_once", "clock_skew", "membership",
  ]

  init(file: String, path: String) {
    self.file = file
    self.path = path
  }

  static func isName(_ s: String, max: Int = 40) -> Bool {
    guard let f = s.unicodeScalars.first, s.count <= max else { return false }
    let ok = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("0"..."9").contains(c) }
    return ok(f) && s.unicodeScalars.allSatisfy { ok($0) || $0 == "-" }
  }

  func absolute(_ p: String) -> String {
    LocalPath.absolute(p, relativeTo: directory)
  }

  func decode(_ root: YAMLNode) -> Manifest? {
    guard let top = reader.mapping(root, "the manifest", allowed: Self.topKeys) else { return nil }
    var fields: [String: YAMLNode] = [:]
    for (k, _, v) in top { fields[k] = v }

    var fixture: String?
    if let n = fields["fixture"] {
      if let s = reader.string(n, "'fixture'") {
        if Self.isName(s) {
          fixture = s
        } else {
          reader.error(n.location, "fixture name '\(s)' must match [a-z0-9][a-z0-9-]* and be at most 40 characters")
        }
      }
    } else {
      reader.error(root.location, "missing required key 'fixture' (the fixture's name)")
    }
    var driver = DriverKind.docker
    if let n = fields["driver"], let s = reader.string(n, "'driver'") {
      if let d = DriverKind(rawValue: s) {
        driver = d
      } else {
        reader.error(n.location, "unknown driver '\(s)'; use 'docker', 'swarm' or 'process'")
      }
    }
    var rootPath = LocalPath.keepingLast("cthulhu-fixture", relativeTo: directory)
    if let n = fields["root"], let s = reader.string(n, "'root'") {
      if s.isEmpty { reader.error(n.location, "'root' must not be empty") } else { rootPath = LocalPath.keepingLast(s, relativeTo: directory) }
      if rootPath == "/" || rootPath == directory {
        reader.error(n.location, "'root' must be a folder of its own, not \(rootPath)")
      }
    }
    var network = NetworkSettings()
    if let n = fields["network"], let m = reader.mapping(n, "'network'", allowed: ["subnet", "mode"]) {
      for (k, _, v) in m {
        if k == "subnet", let s = reader.string(v, "'network.subnet'") {
          if let net = IPv4Network(s) {
            network.subnet = net
          } else {
            reader.error(v.location, "'\(s)' is not an IPv4 network in CIDR form such as 172.28.5.0/24")
          }
        }
        if k == "mode", let s = reader.string(v, "'network.mode'") {
          if let mode = NetworkMode(rawValue: s), mode == .namespaces, driver != .process {
            reader.error(v.location, "'network.mode' is for driver: process; docker instances get the fixture's own network")
            network.mode = mode
          } else if let mode = NetworkMode(rawValue: s) {
            network.mode = mode
          } else {
            reader.error(v.location, "unknown network mode '\(s)'; use 'loopback' or 'namespaces'")
          }
        }
      }
    }
    var faults = FaultSettings()
    if let n = fields["faults"], let m = reader.mapping(n, "'faults'", allowed: ["via"]) {
      for (k, _, v) in m where k == "via" {
        guard let s = reader.string(v, "'faults.via'") else { continue }
        if let via = FaultPath(rawValue: s) {
          faults.via = via
          if via == .helper, driver == .process {
            reader.error(
              v.location, "'faults.via: helper' needs a container engine (driver: docker); the process driver's faults are entered from the host")
          }
        } else {
          reader.error(v.location, "unknown fault path '\(s)'; use 'auto', 'host' or 'helper'")
        }
      }
    }
    var vars: [(key: String, value: Value)] = []
    if let n = fields["vars"], let m = reader.anyMapping(n, "'vars'") {
      vars = m.map { ($0.key, reader.value($0.value)) }
    }
    var defaults: [(key: String, keyNode: YAMLNode, value: YAMLNode)] = []
    if let n = fields["defaults"] {
      defaults = reader.mapping(n, "'defaults'", allowed: Self.groupKeys) ?? []
    }
    var groups: [Group] = []
    if let n = fields["groups"] {
      if let m = reader.anyMapping(n, "'groups'") {
        if m.isEmpty { reader.error(n.location, "'groups' is empty; declare at least one group") }
        for (name, keyNode, value) in m {
          guard Self.isName(name) else {
            reader.error(keyNode.location, "group name '\(name)' must match [a-z0-9][a-z0-9-]* and be at most 40 characters")
            continue
          }
          if let g = GroupDecoder(owner: self, name: name, at: keyNode.location, driver: driver).decode(value, defaults: defaults) {
            groups.append(g)
          }
        }
      }
    } else {
      reader.error(root.location, "missing required key 'groups' (at least one group of instances)")
    }
    guard let fixture else { return nil }
    var manifest = Manifest(path: path, fixture: fixture, driver: driver, root: rootPath, network: network, vars: vars, groups: groups)
    manifest.faults = faults
    // (Past the instance limit the validator says so; the targets are not checked.)
    if let n = fields["nemesis"], groups.reduce(0, { $0 + $1.count }) <= ManifestLoader.maxInstances {
      var decoder = NemesisDecoder(reader: reader, driver: driver, network: network, instances: NemesisDecoder.instances(of: groups))
      decoder.clockGroups = Set(groups.filter(\.clockSkew).map(\.name))
      decoder.diskGroups = Set(groups.filter { $0.mounts.contains(where: \.faults) }.map(\.name))
      decoder.membershipGroups = Dictionary(groups.filter { $0.membership != nil }.map { ($0.name, $0.count) }, uniquingKeysWith: { a, _ in a })
      decoder.groupNames = groups.map(\.name)
      decoder.directory = directory
      manifest.nemesis = decoder.decode(n)
    }
    if let n = fields["workloads"] {
      manifest.workloads = WorkloadDecoder(reader: reader).decode(n)
    }
    ManifestValidator(reader: reader, fields: fields, root: root).check(manifest)
    return manifest
  }
}

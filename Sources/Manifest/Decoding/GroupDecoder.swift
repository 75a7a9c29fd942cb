import Foundation

/// Decodes one group, with `defaults:` merged underneath it.
struct GroupDecoder {
  let owner: ManifestDecoder
  let name: String
  let at: SourceLocation
  let driver: DriverKind
  var reader: Reader { owner.reader }
  var what: String { "group '\(name)'" }

  func decode(_ node: YAMLNode, defaults: [(key: String, keyNode: YAMLNode, value: YAMLNode)]) -> Group? {
    let own = node.isNull ? [] : (reader.mapping(node, what, allowed: ManifestDecoder.groupKeys) ?? [])
    if !node.isNull, case .mapping = node.kind {} else if !node.isNull { return nil }
    var f: [String: YAMLNode] = [:]
    // Each key's node, and whether the group wrote it (not `defaults:`).
    var keys: [String: (node: YAMLNode, own: Bool)] = [:]
    for (k, kn, v) in defaults {
      f[k] = v
      keys[k] = (kn, false)
    }
    for (k, kn, _) in own { keys[k] = (kn, true) }
    for (k, _, v) in own {
      // env merges key by key; everything else: the group's value wins.
      if k == "env", let d = f["env"], case .mapping(let dp) = d.kind, case .mapping(let gp) = v.kind {
        let keys = Set(gp.compactMap { $0.key.scalar })
        f[k] = YAMLNode(kind: .mapping(dp.filter { !keys.contains($0.key.scalar ?? "") } + gp), location: v.location, size: v.size + d.size)
      } else {
        f[k] = v
      }
    }
    var g = Group(name: name, location: at, source: .image(""))
    if let n = f["count"], let c = reader.int(n, "'count' of \(what)", range: 0...ManifestLoader.maxInstances) { g.count = c }
    if let n = f["command"] { g.command = reader.command(n, "'command' of \(what)") }
    decodeSource(f, keys: keys, &g)
    if let n = f["env"], let m = reader.anyMapping(n, "'env' of \(what)") {
      for (k, kn, v) in m {
        if k.isEmpty || k.contains("=") { reader.error(kn.location, "environment variable name '\(k)' is not valid") }
        if case .scalar(let s, _) = v.kind {
          g.env.append((k, v.isNull ? "" : s))
        } else {
          reader.error(v.location, "env '\(k)' of \(what) must be a string, not \(v.kindName)")
        }
      }
    }
    if let n = f["mounts"], let m = reader.anyMapping(n, "'mounts' of \(what)") {
      g.mounts = []
      for (k, kn, v) in m {
        if !ManifestDecoder.isName(k) { reader.error(kn.location, "mount name '\(k)' must match [a-z0-9][a-z0-9-]*") }
        guard let mount = mount(k, v, what) else { continue }
        g.mounts.append(mount)
      }
    }
    if let n = f["templates"] { g.templates = files(n, "templates", mounts: g.mounts) }
    if let n = f["files"] { g.files = files(n, "files", mounts: g.mounts) }
    if let n = f["ports"] { g.ports = ports(n) }
    if let n = f["healthcheck"] { g.healthcheck = healthcheck(n) }
    if let n = f["memory"] { g.memory = reader.size(n, "'memory' of \(what)") }
    if let n = f["cpus"], let c = reader.double(n, "'cpus' of \(what)") {
      if c <= 0 || c > 1024 { reader.error(n.location, "'cpus' of \(what) must be more than 0") } else { g.cpus = c }
    }
    if let n = f["stop_timeout"] { g.stopTimeout = reader.duration(n, "'stop_timeout' of \(what)") }
    if let n = f["on_change"], let s = reader.string(n, "'on_change' of \(what)") {
      if s == "restart" {
        g.onChange = .restart
      } else if s == "none" {
        g.onChange = .none
      } else if s.hasPrefix("signal:") {
        if let sig = Signals.canonical(String(s.dropFirst(7))) {
          g.onChange = .signal(sig)
        } else {
          reader.error(n.location, "unknown signal '\(s.dropFirst(7))' in 'on_change'; use a name such as \(Signals.common)")
        }
      } else {
        reader.error(n.location, "'on_change' must be 'restart', 'none' or 'signal:<NAME>', not '\(s)'")
      }
    }
    if let n = f["depends_on"], let list = reader.strings(n, "'depends_on' of \(what)"), case .sequence(let items) = n.kind {
      g.dependsOn = list
      g.dependsOnLocations = items.map(\.location)
    }
    if let n = f["user"] { g.user = user(n) }
    if let n = f["run_once"], let b = reader.bool(n, "'run_once' of \(what)") { g.runOnce = b }
    if let n = f["membership"] {
      g.membership = membership(n)
      if g.runOnce { reader.error(n.location, "'membership' of \(what): a run_once group's instances exit; they cannot be members of a cluster") }
    }
    if let n = f["clock_skew"], let b = reader.bool(n, "'clock_skew' of \(what)") {
      g.clockSkew = b
      if b && driver == .swarm {
        reader.error(
          n.location,
          "'clock_skew' of \(what): the swarm driver's instances run on other machines, where cthulhu cannot bind libfaketime and the clock file")
      }
    }
    if driver == .process {
      // Said at once rather than ignored: a host process has no published
      // ports (it listens on its own address) and no container cgroup.
      if let n = f["ports"] {
        reader.error(
          n.location, "'ports' of \(what): the process driver publishes no ports; an instance listens on its own address (instance.ip, CTHULHU_IP)")
      }
      for key in ["memory", "cpus"] {
        if let n = f[key] { reader.error(n.location, "'\(key)' of \(what) is a container limit; the process driver cannot apply it") }
      }
      g.command = g.command.map(hostProgram)
      if let probe = g.healthcheck?.command { g.healthcheck?.command = hostProgram(probe) }
    }
    if driver == .swarm, let n = f["ports"] {
      // A published port opens on the node that runs the instance (the
      // routing mesh needs IPVS and services), not where cthulhu runs.
      reader.error(
        n.location,
        "'ports' of \(what): the swarm driver publishes no ports (they would open on whichever node runs the instance); reach an instance at its address on the fixture's overlay network (instance.ip) from another instance"
      )
    }
    return g
  }

  /// The process driver runs a program of the repository next to the
  /// manifest (`./bin/server`, `../.build/debug/app`) wherever cthulhu is
  /// started from: a first word that starts with `./` or `../` is made
  /// absolute against the manifest's folder. A bare name is looked up on
  /// `PATH`, and an absolute path is kept.
  func hostProgram(_ argv: [String]) -> [String] {
    guard let first = argv.first, first.hasPrefix("./") || first.hasPrefix("../") else { return argv }
    return [owner.absolute(first)] + argv.dropFirst()
  }

  func decodeSource(_ f: [String: YAMLNode], keys: [String: (node: YAMLNode, own: Bool)], _ g: inout Group) {
    let image = f["image"]
    let build = f["build"]
    if driver == .process {
      if let n = image ?? build {
        reader.error(n.location, "\(what): 'image' and 'build' are for the docker driver; the process driver runs 'command' on the host")
      }
      if g.command == nil && f["command"] == nil { reader.error(at, "\(what) needs a 'command' (the process driver runs it on the host)") }
      g.source = .image("")
      return
    }
    if driver == .swarm, let n = build {
      reader.error(
        n.location,
        "\(what): 'build' makes an image on one engine; the swarm driver needs 'image', an image every node has (docker load it on each, or run a registry the nodes pull from)"
      )
    }
    switch (image, build) {
    case (nil, nil): reader.error(at, "\(what) needs 'image' or 'build'")
    case (.some, .some):
      // At the second of the two keys: the one the group wrote itself when
      // the other came from `defaults:`, else the later one in the file.
      let both = ["image", "build"].compactMap { keys[$0] }
      let second = both.max { a, b in
        (a.own ? 1 : 0, a.node.location.line, a.node.location.column) < (b.own ? 1 : 0, b.node.location.line, b.node.location.column)
      }
      reader.error(second?.node.location ?? at, "\(what) has both 'image' and 'build'; keep one")
    case (.some(let i), nil):
      if let s = reader.string(i, "'image' of \(what)") {
        if s.isEmpty || s.contains(where: { $0.isWhitespace }) { reader.error(i.location, "'\(s)' is not an image reference") }
        g.source = .image(s)
      }
    case (nil, .some(let b)):
      var context: String?
      var dockerfile = "Dockerfile"
      if case .scalar = b.kind {
        context = reader.string(b, "'build' of \(what)")
      } else if let m = reader.mapping(b, "'build' of \(what)", allowed: ["context", "dockerfile"]) {
        for (k, _, v) in m {
          if k == "context" { context = reader.string(v, "'build.context' of \(what)") }
          if k == "dockerfile", let s = reader.string(v, "'build.dockerfile' of \(what)") { dockerfile = s }
        }
        if context == nil { reader.error(b.location, "'build' of \(what) needs a 'context' folder") }
      }
      if let c = context {
        let full = owner.absolute(c)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: full, isDirectory: &isDir) || !isDir.boolValue {
          reader.error(b.location, "build context '\(c)' of \(what) is not a folder (looked for \(full))")
        } else if !FileManager.default.fileExists(atPath: full + "/" + dockerfile) {
          reader.error(b.location, "build context '\(c)' of \(what) has no \(dockerfile)")
        }
        g.source = .build(context: full, dockerfile: dockerfile)
      }
    }
  }

  /// One entry of `mounts:`: `name: /path`, or `name: {path: /path, faults: true}`
  /// (the instance sees it through cthulhu's disk layer).
  func mount(_ name: String, _ node: YAMLNode, _ what: String) -> Mount? {
    var pathNode = node
    var faults = false
    if case .mapping = node.kind {
      guard let m = reader.mapping(node, "mount '\(name)' of \(what)", allowed: ["path", "faults"]) else { return nil }
      guard let p = m.first(where: { $0.key == "path" })?.value else {
        reader.error(node.location, "mount '\(name)' of \(what) needs 'path' (where the instance sees it)")
        return nil
      }
      pathNode = p
      if let f = m.first(where: { $0.key == "faults" })?.value, let b = reader.bool(f, "'faults' of mount '\(name)'") {
        faults = b
        if b && driver == .swarm {
          reader.error(
            f.location,
            "'faults' of mount '\(name)' of \(what): the disk layer runs on this machine, and the swarm driver's instances on others")
        }
      }
    }
    guard let p = reader.string(pathNode, "mount '\(name)' of \(what)") else { return nil }
    if !p.hasPrefix("/") || p.split(separator: "/").contains("..") {
      reader.error(pathNode.location, "mount '\(name)' of \(what): container path '\(p)' must be absolute, without '..'")
    }
    return Mount(name: name, path: p, faults: faults)
  }

  func files(_ node: YAMLNode, _ key: String, mounts: [Mount]) -> [FileSpec] {
    guard case .sequence(let items) = node.kind else {
      reader.error(node.location, "'\(key)' of \(what) must be a list of {source, target}")
      return []
    }
    var out: [FileSpec] = []
    for item in items {
      guard let m = reader.mapping(item, "an entry of '\(key)' in \(what)", allowed: ["source", "target", "mode"]) else { continue }
      var source: String?
      var target: (String, YAMLNode)?
      var mode = 0o644
      for (k, _, v) in m {
        if k == "source" { source = reader.string(v, "'source'") }
        if k == "target", let t = reader.string(v, "'target'") { target = (t, v) }
        if k == "mode", v.scalar == nil || v.isNull {
          reader.error(v.location, "mode must be octal digits such as \"0644\" or \"0755\", not \(v.kindName)")
        } else if k == "mode", let s = v.scalar {
          if let n = Int(s.hasPrefix("0o") ? String(s.dropFirst(2)) : s, radix: 8), n >= 0, n <= 0o7777 {
            mode = n
          } else {
            reader.error(v.location, "mode '\(s)' must be octal digits such as \"0644\" or \"0755\"")
          }
        }
      }
      guard let source, let (t, tn) = target else {
        reader.error(item.location, "an entry of '\(key)' in \(what) needs both 'source' and 'target'")
        continue
      }
      let full = owner.absolute(source)
      var isDir: ObjCBool = false
      if !FileManager.default.fileExists(atPath: full, isDirectory: &isDir) || isDir.boolValue {
        reader.error(item.location, "\(key.dropLast()) source '\(source)' does not exist (looked for \(full))")
      }
      let parts = t.split(separator: "/", omittingEmptySubsequences: false)
      if t.hasPrefix("/") {
        reader.error(tn.location, "target '\(t)' must be relative: '<mount>/<path>', e.g. etc/config.json")
      } else if parts.contains("..") || parts.contains("") || parts.contains(".") {
        reader.error(tn.location, "target '\(t)' must not contain '..', '.' or empty parts")
      } else if parts.count < 2 {
        reader.error(tn.location, "target '\(t)' must name a mount and a path, e.g. etc/config.json")
      } else if !mounts.contains(where: { $0.name == parts[0] }) {
        reader.error(
          tn.location,
          "target '\(t)' names mount '\(parts[0])', which \(what) does not declare (it has \(mounts.map(\.name).joined(separator: ", ")))")
      } else {
        out.append(
          FileSpec(source: full, mount: String(parts[0]), path: parts.dropFirst().joined(separator: "/"), mode: mode, location: item.location))
      }
    }
    return out
  }

  func ports(_ node: YAMLNode) -> [PortSpec] {
    guard case .sequence(let items) = node.kind else {
      reader.error(node.location, "'ports' of \(what) must be a list such as [\"30000:8080\", 9090]")
      return []
    }
    var out: [PortSpec] = []
    for i in items {
      guard let s = i.scalar else { reader.error(i.location, "a port must be \"HOST:CONTAINER\" or CONTAINER"); continue }
      var body = Substring(s)
      var proto = PortProtocol.tcp
      if let slash = body.firstIndex(of: "/") {
        guard let p = PortProtocol(rawValue: String(body[body.index(after: slash)...])) else {
          reader.error(i.location, "port '\(s)': protocol must be tcp or udp"); continue
        }
        proto = p
        body = body[..<slash]
      }
      let parts = body.split(separator: ":", omittingEmptySubsequences: false)
      let nums = parts.map { Int($0) }
      guard (1...2).contains(parts.count), nums.allSatisfy({ $0 != nil && (1...65535).contains($0!) }) else {
        reader.error(i.location, "port '\(s)' must be \"HOST:CONTAINER\" or CONTAINER, each 1–65535")
        continue
      }
      out.append(PortSpec(hostStart: parts.count == 2 ? nums[0] : nil, container: nums[parts.count - 1]!, proto: proto, location: i.location))
    }
    return out
  }

  func healthcheck(_ node: YAMLNode) -> Healthcheck? {
    guard let m = reader.mapping(node, "'healthcheck' of \(what)", allowed: ["command", "interval", "timeout", "retries", "start_period"]) else {
      return nil
    }
    var h = Healthcheck(command: [])
    var hasCommand = false
    for (k, _, v) in m {
      switch k {
      case "command": if let c = reader.command(v, "'healthcheck.command'") { h.command = c; hasCommand = true }
      case "interval": if let d = reader.duration(v, "'healthcheck.interval'") { h.interval = d }
      case "timeout": if let d = reader.duration(v, "'healthcheck.timeout'") { h.timeout = d }
      case "retries": if let r = reader.int(v, "'healthcheck.retries'", range: 1...10_000) { h.retries = r }
      default: if let d = reader.duration(v, "'healthcheck.start_period'") { h.startPeriod = d }
      }
    }
    if !hasCommand { reader.error(node.location, "'healthcheck' of \(what) needs a 'command'"); return nil }
    return h
  }
}

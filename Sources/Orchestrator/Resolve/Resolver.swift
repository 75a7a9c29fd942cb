import Foundation
import Manifest

/// Turns a manifest into a ``DesiredFixture``: allocates sticky names and
/// addresses, renders templates, builds container specs and their hashes.
/// Pure apart from reading template sources and build contexts.
public struct Resolver: Sendable {
  public var manifest: Manifest
  /// What the last apply made (for sticky identity), nil on a fresh fixture.
  public var previous: FixtureState?
  /// Subnets the engine already uses for other networks.
  public var usedSubnets: [IPv4Network]
  /// Local image ids by reference, so the hash sees a re-tagged image.
  public var imageIDs: [String: String]
  /// Who cthulhu is, and the host's users, for `user:` (see ``UserResolver``).
  public var users: any HostUsers
  /// The builds, when they are known already (``builds()`` hashes every
  /// build context: one apply does that once).
  var knownBuilds: [DesiredBuild]?

  public init(
    manifest: Manifest, previous: FixtureState?, usedSubnets: [IPv4Network] = [], imageIDs: [String: String] = [:],
    users: any HostUsers = SystemUsers()
  ) {
    self.manifest = manifest
    self.previous = previous
    self.usedSubnets = usedSubnets
    self.imageIDs = imageIDs
    self.users = users
  }

  public func resolve() throws -> DesiredFixture {
    if let g = manifest.groups.first(where: \.clockSkew), ClockSkew.library() == nil {
      throw OrchestratorError(
        .unsupported,
        "\(g.location): group '\(g.name)' asks for clock_skew, and libfaketime is not installed on this machine (Debian: apt-get install libfaketime)"
      )
    }
    let subnet = try chooseSubnet()
    let slots = allocate(subnet: subnet)
    let networkName = Naming.network(manifest.fixture)
    let builds = try knownBuilds ?? builds()
    let members = MemberContext.contexts(manifest: manifest, slots: slots, previous: previous)
    var renderer = TemplateRenderer(manifest: manifest, slots: slots, subnet: subnet)
    try renderer.readSources()
    let userResolver = UserResolver(manifest: manifest, users: users)
    var users: [String: ResolvedUser] = [:]
    for g in manifest.groups {
      users[g.name] = try userResolver.resolve(g, instances: slots.filter { $0.group == g.name }.map(\.name))
    }
    let runAs = users
    let groups = Dictionary(manifest.groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    // Each instance is rendered and hashed on its own, so on every core;
    // each lane has its own template cache (Stencil promises nothing about
    // threads). The first error in name order is the one reported.
    var made = [Result<DesiredInstance, any Error>?](repeating: nil, count: slots.count)
    let lanes = min(ProcessInfo.processInfo.activeProcessorCount, slots.count / 32 + 1)
    made.withUnsafeMutableBufferPointer { buffer in
      // (Each lane writes its own elements, and reads shared values only.)
      nonisolated(unsafe) let out = buffer
      nonisolated(unsafe) let renderer = renderer
      DispatchQueue.concurrentPerform(iterations: lanes) { lane in
        let mine = renderer.withOwnCache()
        for i in stride(from: lane, to: slots.count, by: lanes) {
          let group = groups[slots[i].group]!
          out[i] = Result {
            var one = try instance(
              slots[i], group: group, user: runAs[group.name] ?? ResolvedUser(), renderer: mine, builds: builds, network: networkName,
              member: members[slots[i].name])
            one.membership = members[slots[i].name]
            return one
          }
        }
      }
    }
    let instances = try made.map { try $0!.get() }
    var desired = DesiredFixture(
      fixture: manifest.fixture, root: manifest.root, driver: manifest.driver,
      network: NetworkSpec(name: networkName, subnet: subnet, gateway: subnet.gateway, labels: networkLabels),
      builds: builds, instances: instances)
    for g in manifest.groups { desired.membership[g.name] = g.membership }
    desired.vars = Dictionary(manifest.vars.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    return desired
  }

  /// One instance: its files rendered, its container spec, both hashed.
  private func instance(
    _ slot: Slot, group: Group, user: ResolvedUser, renderer: TemplateRenderer, builds: [DesiredBuild], network: String,
    member: MemberContext?
  ) throws -> DesiredInstance {
    let files = try renderer.files(for: slot, group: group, member: member)
    let image: String
    switch group.source {
    case .image(let ref): image = ref
    case .build: image = builds.first { $0.group == group.name }!.tag
    }
    var container = containerSpec(slot: slot, group: group, image: image, network: network)
    container.user = user.engine
    let filesHash = Hashing.sha256(json: files.map { [$0.path, String($0.mode, radix: 8), $0.sha256] })
    return DesiredInstance(
      name: slot.name, group: slot.group, ip: slot.address, index: slot.index, ordinal: slot.ordinal,
      container: container, files: files, onChange: group.onChange, dependsOnGroups: group.dependsOn,
      hasHealthcheck: group.healthcheck != nil, runOnce: group.runOnce, specHash: container.hash,
      filesHash: filesHash, runAs: user.runAs, owner: user.owner, diskMounts: group.mounts.filter(\.faults).map(\.name))
  }

  /// The images the manifest builds; each tag names its context's hash.
  func builds() throws -> [DesiredBuild] {
    try manifest.groups.compactMap { g -> DesiredBuild? in
      guard case .build(let context, let dockerfile) = g.source else { return nil }
      let hash = try ContextHash.of(folder: context)
      return DesiredBuild(
        group: g.name, context: context, dockerfile: dockerfile,
        tag: "cthulhu-\(manifest.fixture)-\(g.name):\(hash.prefix(12))")
    }
  }

  /// The process driver learns the fixture's `network.mode` from its network's labels.
  var networkLabels: [String: String] {
    var labels = [Labels.fixture: manifest.fixture, Labels.root: manifest.root]
    if manifest.driver == .process { labels[Labels.networkMode] = manifest.network.mode.rawValue }
    return labels
  }

  // MARK: - Addresses and names

  /// Where a subnet is picked when the manifest names none. The process
  /// driver's loopback mode lives in 127.0.0.0/8 (every address there
  /// reaches `lo` with no setup, so no root); its namespaces mode routes its
  /// subnet to a host bridge, so it stays out of Docker's ranges (172.17–31,
  /// 192.168) and of the docker driver's pool.
  var pool: IPv4Network {
    switch (manifest.driver, manifest.network.mode) {
    case (.process, .loopback): IPv4Network("127.77.0.0/16")!
    case (.process, .namespaces): IPv4Network("10.77.0.0/16")!
    case (.docker, _), (.swarm, _): IPv4Network("172.30.0.0/15")!
    }
  }

  /// A subnet the process driver's mode can use (loopback: inside 127.0.0.0/8; namespaces: outside).
  func checkMode(_ s: IPv4Network) throws -> IPv4Network {
    guard manifest.driver == .process else { return s }
    let lo = IPv4Network("127.0.0.0/8")!
    switch manifest.network.mode {
    case .loopback where !(lo.contains(s.address) && s.prefix >= 8):
      throw OrchestratorError(.subnet, "network.mode: loopback needs a subnet inside 127.0.0.0/8 (got \(s)); leave network.subnet out to get one")
    case .namespaces where lo.overlaps(s):
      throw OrchestratorError(.subnet, "network.mode: namespaces needs a subnet outside 127.0.0.0/8 (got \(s))")
    default: return s
    }
  }

  /// The manifest's subnet, else the one the fixture already has, else the
  /// first free one of the right size in the ``pool`` not used by another network.
  func chooseSubnet() throws -> IPv4Network {
    let total = manifest.groups.reduce(0) { $0 + $1.count } + manifest.driver.reservedAddresses
    if let s = manifest.network.subnet { return try checkMode(s) }
    // (A subnet of the other process network mode is not kept: the planner
    // then asks for a destroy, instead of the mode changing silently.)
    if let s = previous?.subnet, s.capacity >= total, (try? checkMode(s)) != nil { return s }
    var prefix = 24
    while IPv4Network(address: IPv4Address(0), prefix: prefix).capacity < total && prefix > 16 { prefix -= 1 }
    let base = pool
    let step = UInt32(1) << UInt32(32 - prefix)
    // Start at a place derived from the fixture name, so parallel fixtures rarely race for one subnet.
    let slots = UInt32(base.size / UInt64(step))
    let start = UInt32(truncatingIfNeeded: Hashing.sha256(manifest.fixture).utf8.reduce(UInt32(7)) { $0 &* 31 &+ UInt32($1) }) % slots
    for k in 0..<slots {
      let candidate = IPv4Network(address: IPv4Address(base.address.value + ((start + k) % slots) * step), prefix: prefix)
      if !usedSubnets.contains(where: { $0.overlaps(candidate) }) { return candidate }
    }
    throw OrchestratorError(.subnet, "no free /\(prefix) left in \(base) for fixture '\(manifest.fixture)'; set network.subnet")
  }

  /// Sticky identity: kept instances keep their name and address; scaling up
  /// takes the lowest free names and addresses, scaling down drops the highest.
  func allocate(subnet: IPv4Network) -> [Slot] {
    let prior = (previous?.instances ?? []).filter { InstanceName.ordinal($0.name) != nil }
    let sameSubnet = previous?.subnet == subnet
    var kept: [Slot] = []
    for g in manifest.groups {
      let mine = prior.filter { $0.group == g.name }.sorted { InstanceName.ordinal($0.name)! < InstanceName.ordinal($1.name)! }
      for r in mine.prefix(g.count) {
        kept.append(Slot(name: r.name, group: g.name, ip: sameSubnet && subnet.contains(r.ip) ? r.ip : nil, index: 0))
      }
    }
    var usedOrdinals = Set(kept.map { InstanceName.ordinal($0.name)! })
    var usedHosts = Set(kept.compactMap { $0.ip.map { Int($0.value) - Int(subnet.address.value) - 2 } })
    var nextOrdinal = 1
    var nextHost = 0
    func takeHost() -> IPv4Address {
      while usedHosts.contains(nextHost) { nextHost += 1 }
      usedHosts.insert(nextHost)
      return subnet.host(nextHost)
    }
    // Addresses for kept instances that lost theirs (subnet changed), in name order.
    for i in kept.indices.sorted(by: { InstanceName.ordinal(kept[$0].name)! < InstanceName.ordinal(kept[$1].name)! })
    where kept[i].ip == nil {
      kept[i].ip = takeHost()
    }
    var all = kept
    for g in manifest.groups {
      let have = kept.filter { $0.group == g.name }.count
      for _ in have..<max(have, g.count) {
        while usedOrdinals.contains(nextOrdinal) { nextOrdinal += 1 }
        usedOrdinals.insert(nextOrdinal)
        all.append(Slot(name: InstanceName.make(nextOrdinal), group: g.name, ip: takeHost(), index: 0))
      }
    }
    all.sort { InstanceName.ordinal($0.name)! < InstanceName.ordinal($1.name)! }
    var seen: [String: Int] = [:]
    for i in all.indices {
      all[i].index = seen[all[i].group, default: 0]
      seen[all[i].group, default: 0] += 1
    }
    return all
  }

  struct Slot: Hashable {
    var name: String
    var group: String
    var ip: IPv4Address?
    var index: Int
    var ordinal: Int { InstanceName.ordinal(name)! }
    var address: IPv4Address { ip! }
  }

  // MARK: - Container spec

  func containerSpec(slot: Slot, group: Group, image: String, network: String) -> ContainerSpec {
    let dir = FixturePaths(root: manifest.root).instanceFolder(ip: slot.address)
    var env = group.env.map { "\($0.key)=\($0.value)" }
    env += ["CTHULHU_FIXTURE=\(manifest.fixture)", "CTHULHU_NAME=\(slot.name)", "CTHULHU_IP=\(slot.address)"]
    // A mount with faults is seen through its disk layer's mount point.
    let paths = FixturePaths(root: manifest.root)
    let hostFolder = { (m: Mount) in
      m.faults ? DiskLayers.mountPoint(paths, ip: slot.address, mount: m.name) : dir + "/bindmounts/" + m.name
    }
    var binds = group.mounts.map { Bind(host: hostFolder($0), container: $0.path) }
    if manifest.driver == .process {
      // A host process sees no bind mounts: each mount is its host folder,
      // named to the process by CTHULHU_MOUNT_<NAME> (upper case, other than
      // letters and digits → _).
      binds = binds.map { Bind(host: $0.host, container: $0.host, readOnly: $0.readOnly) }
      env += group.mounts.map { "CTHULHU_MOUNT_\(Self.envName($0.name))=\(hostFolder($0))" }
    }
    // Properties the instance states about itself (see History's
    // PropertyLedger): a file in its `var` folder, where it may write.
    if let v = group.mounts.first(where: { $0.name == "var" }) {
      env.append("CTHULHU_ASSERTIONS=" + (manifest.driver == .process ? "\(dir)/bindmounts/var" : v.path) + "/" + FixturePaths.assertionsFile)
    }
    if group.clockSkew, let library = ClockSkew.library() {
      // Without the library the apply fails before anything changes (see resolve).
      let made = ClockSkew.preload(
        library: library, clockFolder: dir + "/clock", container: manifest.driver != .process, env: env)
      env = made.env
      binds += made.binds
    }
    let ports = group.ports.map { p in
      PortBinding(container: p.container, proto: p.proto.rawValue, host: p.hostStart.map { $0 + slot.index })
    }
    let health = group.healthcheck.map { h in
      HealthcheckSpec(
        test: h.command, interval: h.interval.nanoseconds, timeout: h.timeout.nanoseconds,
        retries: h.retries, startPeriod: h.startPeriod.nanoseconds)
    }
    return ContainerSpec(
      name: Naming.container(manifest.fixture, slot.name), image: image, imageID: imageIDs[image],
      command: group.command, env: env, hostname: slot.name,
      labels: [
        Labels.fixture: manifest.fixture, Labels.root: manifest.root, Labels.instance: slot.name,
        Labels.group: group.name,
      ],
      binds: binds, network: network, ip: slot.address, aliases: [slot.name], ports: ports,
      memory: group.memory, nanoCPUs: group.cpus.map { Int64($0 * 1e9) },
      stopTimeout: group.stopTimeout.map { Int(($0.nanoseconds + 999_999_999) / 1_000_000_000) },
      healthcheck: health)
  }
}

extension Resolver {
  /// `my-data` → `MY_DATA`.
  static func envName(_ mount: String) -> String {
    String(mount.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
  }
}

/// Hash of a build context: every regular file's relative path, mode and content.
enum ContextHash {
  static func of(folder: String) throws -> String {
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: folder) else {
      throw OrchestratorError(.io, "\(folder): build context is not a readable folder")
    }
    var entries: [String] = []
    while let rel = walker.nextObject() as? String {
      let full = folder + "/" + rel
      var isDir: ObjCBool = false
      guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue,
        let data = fm.contents(atPath: full)
      else { continue }
      let mode = (try? fm.attributesOfItem(atPath: full)[.posixPermissions] as? Int) ?? 0
      entries.append("\(rel)\u{0}\(String(mode, radix: 8))\u{0}\(Hashing.sha256(data))")
    }
    return Hashing.sha256(entries.sorted().joined(separator: "\n"))
  }
}

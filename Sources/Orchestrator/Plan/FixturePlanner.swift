import Foundation
import Manifest

extension FixturePlanner {
  /// Observes the world once and diffs it against the manifest. Changes nothing.
  public func plan(_ manifest: Manifest) async throws -> FixtureController.PlannedChange {
    // The engine lists the fixture's containers (the process driver decodes
    // a record for each) while the state is read.
    async let listed = driver.containers(fixture: manifest.fixture)
    let read = try FixtureState.read(root: manifest.root)
    let state = read?.state
    _ = try FixtureRoot.check(root: manifest.root, fixture: manifest.fixture, manifest: manifest.path, state: state)
    // Build tags depend only on the context, so they are known before observing.
    let builds = try Resolver(manifest: manifest, previous: state).builds()
    var planned = try await plan(manifest, state: state, stateDigest: read?.digest, listed: try await listed, builds: builds)
    planned.observed.stateStamp = read?.stamp ?? StateStamp()
    return planned
  }

  /// The rest of a plan, once the state is known (read from disk, or an
  /// apply's own between rounds) and the containers are listed: the
  /// engine's networks and images, the files on disk, the resolution (with
  /// the builds' contexts hashed already) and the diff.
  func plan(
    _ manifest: Manifest, state: FixtureState?, stateDigest: String?, listed: [ObservedContainer], builds: [DesiredBuild],
    refused: [String: String] = [:], addressHeld: [String: String] = [:]
  ) async throws -> FixtureController.PlannedChange {
    let images = manifest.groups.compactMap { g -> String? in
      if case .image(let r) = g.source { return r }; return nil
    }
    let observed = try await ObservedFixture.observe(
      fixture: manifest.fixture, root: manifest.root, state: state, stateDigest: stateDigest, containers: listed,
      images: images + builds.map(\.tag), driver: driver)
    try checkOwnership(manifest: manifest, observed: observed)
    var resolver = Resolver(manifest: manifest, previous: observed.state, usedSubnets: observed.otherSubnets, imageIDs: observed.imageIDs)
    resolver.knownBuilds = builds
    var desired = try resolver.resolve()
    // A driver that places instances (swarm) says where each one runs, as part of its spec.
    if let placing = driver as? any PlacingDriver { desired = try await placing.place(desired, observed: observed) }
    let basis = Self.basis(desired: desired, observed: observed)
    let plan = try Planner.plan(
      desired: desired, observed: observed, manifest: manifest.path, basis: basis, refused: refused, addressHeld: addressHeld)
    return FixtureController.PlannedChange(plan: plan, desired: desired, observed: observed, manifest: manifest)
  }

  /// Containers and networks of this fixture's name made from another
  /// folder are not ours to change.
  func checkOwnership(manifest: Manifest, observed: ObservedFixture) throws {
    if let c = observed.containers.first(where: { $0.labels[Labels.root] != manifest.root }) {
      throw OrchestratorError(
        .foreign,
        "fixture '\(manifest.fixture)' is already running from \(c.labels[Labels.root] ?? "another folder") (\(manifest.driver == .process ? "instance" : "container") \(c.name)); destroy it there or rename this fixture"
      )
    }
    if let net = observed.network, let other = net.labels[Labels.root], other != manifest.root {
      throw OrchestratorError(
        .foreign,
        "fixture '\(manifest.fixture)' already has a network from \(other) (\(net.name)); destroy it there or rename this fixture")
    }
  }

  /// What a plan was made from, as one hash: the desired instances, the
  /// network and builds, the state (the digest of the bytes it was read
  /// from; a state made in memory is encoded, its time of change left out),
  /// the containers, the network's id and the files on disk. Each value is
  /// written with its length, so no two worlds write the same bytes; written
  /// by hand, as JSON-encoding all of it was a sixth of a no-op plan.
  static func basis(desired: DesiredFixture, observed: ObservedFixture) -> String {
    var b = BasisWriter()
    b.add("instances")
    for d in desired.instances { b.add(d.name, d.specHash, d.filesHash) }
    b.add("network", desired.network.name, desired.network.subnet.description, desired.network.gateway.description)
    b.add(desired.network.labels)
    b.add("builds")
    for tag in desired.builds.map(\.tag) { b.add(tag) }
    b.add("state")
    if let digest = observed.stateDigest {
      b.add("digest", digest)
    } else if var state = observed.state {
      state.updatedAt = nil
      b.add("encoded", Hashing.sha256(json: state))
    }
    b.add("containers")
    for c in observed.containers.sorted(by: { $0.id < $1.id }) {
      b.add(c.id, c.name, c.image, c.imageID, c.state.rawValue, c.health ?? "-", c.ip?.description ?? "-")
      b.add(c.labels)
      for p in c.ports { b.add("\(p.container)/\(p.proto)", p.host.map(String.init) ?? "-") }
    }
    b.add("network-id", observed.network?.id ?? "-")
    b.add("disk")
    for (name, files) in observed.diskFiles.sorted(by: { $0.key < $1.key }) {
      b.add(name)
      b.add(files)
    }
    b.add("disk-layers-down")
    for (name, mounts) in observed.diskLayersDown.sorted(by: { $0.key < $1.key }) { b.add(name, mounts.joined(separator: ",")) }
    return b.digest
  }
}

/// Bytes for ``FixturePlanner/basis(desired:observed:)``: each value as
/// its length in UTF-8 bytes, a colon, the value.
struct BasisWriter {
  private var bytes: [UInt8] = []

  mutating func add(_ values: String...) {
    for v in values {
      bytes += Array(String(v.utf8.count).utf8)
      bytes.append(UInt8(ascii: ":"))
      bytes += Array(v.utf8)
    }
  }

  /// A map's pairs in key order, after its size.
  mutating func add(_ map: [String: String]) {
    add(String(map.count))
    for (k, v) in map.sorted(by: { $0.key < $1.key }) { add(k, v) }
  }

  var digest: String { Hashing.sha256(Data(bytes)) }
}

import Foundation
import Manifest

/// One snapshot of the world, taken once per plan: the fixture's state file,
/// the engine's containers and networks that carry the fixture's label, and
/// the files on disk that apply wrote.
public struct ObservedFixture: Sendable {
  public var state: FixtureState?
  public var containers: [ObservedContainer]
  /// The fixture's own network, if it exists.
  public var network: ObservedNetwork?
  /// Subnets of every other network on the engine.
  public var otherSubnets: [IPv4Network]
  /// Local image ids by reference (nil: not on this machine).
  public var imageIDs: [String: String]
  /// sha256 of each file apply wrote, as it is on disk now, by instance then path
  /// (a missing file maps to "missing").
  public var diskFiles: [String: [String: String]]
  /// sha256 of the bytes the state was read from (snapshot and journal),
  /// when it was read from disk: a plan's basis holds it.
  public var stateDigest: String?
  /// The stamp of the state's files as they were read (nil: not read from
  /// disk): under the fixture lock, apply runs this observation's plan when
  /// the state is unchanged since.
  public var stateStamp: StateStamp?
  /// The disk layers whose daemon was started and no longer serves, by
  /// instance: mount names (the instance sees a dead mount until both are
  /// made anew).
  public var diskLayersDown: [String: [String]] = [:]

  public init(
    state: FixtureState?, containers: [ObservedContainer] = [], network: ObservedNetwork? = nil,
    otherSubnets: [IPv4Network] = [], imageIDs: [String: String] = [:], diskFiles: [String: [String: String]] = [:]
  ) {
    self.state = state
    self.containers = containers
    self.network = network
    self.otherSubnets = otherSubnets
    self.imageIDs = imageIDs
    self.diskFiles = diskFiles
  }

  /// The containers by their instance label (O(N), once).
  public var containersByInstance: [String: ObservedContainer] { containers.byInstance() }

  /// Takes the snapshot: the state read and the containers listed already
  /// (a plan does both at once), one network listing, one image look-up per
  /// distinct image, and a hash of each written file.
  static func observe(
    fixture: String, root: String, state: FixtureState?, stateDigest: String?, containers: [ObservedContainer], images: [String],
    driver: any Driver
  ) async throws -> ObservedFixture {
    async let networks = driver.networks()
    var ids: [String: String] = [:]
    for ref in Set(images) {
      if let id = try await driver.imageID(ref) { ids[ref] = id }
    }
    let nets = try await networks
    let mine = nets.first { $0.name == Naming.network(fixture) && $0.labels[Labels.fixture] == fixture }
    var disk: [String: [String: String]] = [:]
    let paths = FixturePaths(root: root)
    for r in state?.instances ?? [] {
      var m: [String: String] = [:]
      for path in r.files.keys {
        let full = paths.file(ip: r.ip, path: path)
        m[path] = FileManager.default.contents(atPath: full).map(Hashing.sha256) ?? "missing"
      }
      disk[r.name] = m
    }
    var observed = ObservedFixture(
      state: state, containers: containers, network: mine,
      otherSubnets: nets.filter { $0.id != mine?.id }.flatMap(\.subnets), imageIDs: ids, diskFiles: disk)
    observed.stateDigest = stateDigest
    let layers = DiskLayers(root: root)
    let table = MountTable.current()
    for l in layers.recorded() where layers.running(l, table: table) == nil { observed.diskLayersDown[l.instance, default: []].append(l.mount) }
    return observed
  }
}

extension Array where Element == ObservedContainer {
  /// The containers by their instance label, the first of each as a scan
  /// would find it: built once, then looked up per instance.
  func byInstance() -> [String: ObservedContainer] {
    Dictionary(compactMap { c in c.labels[Labels.instance].map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
  }
}

import Foundation
import Manifest

extension FixtureDestroyer {
  public struct DestroyReport: Sendable {
    public var fixture: String
    public var containers: [String] = []
    public var networks: [String] = []
    /// Built images removed (`removeImages`).
    public var images: [String] = []
    /// Why the fixture's state could not be used (missing, unreadable,
    /// written for another folder), when destroy found it by label instead.
    public var withoutState: String?
    /// Entries of the root that cthulhu did not make, left as they were.
    public var kept: [String] = []
    /// The root folder itself was removed (cthulhu made it and it was empty).
    public var removedRoot = false
    /// The root's files were kept (`keepFiles`).
    public var keptFiles = false
  }

  /// Removes exactly what the fixture made: its containers, its network,
  /// and (unless `keepFiles`) the entries of its folder that cthulhu
  /// recorded as its own, then the folder itself if cthulhu created it and
  /// it is then empty. Anything else in the folder is kept and reported.
  ///
  /// It does not depend on the state file: when the state is missing,
  /// unreadable or was written for another folder, the fixture's containers
  /// and networks are found by their labels (`io.cthulhu.root` = this
  /// folder), and its entries from its links and `spec.json`. Every removal
  /// goes through ``SafeTree``, so no name read back from any file leaves the
  /// folder. Images built from `build:` stay as a cache unless `removeImages`.
  ///
  /// `progress` hears how many of the fixture's containers are removed so far, of how many.
  public func destroy(
    root: String, fixture: String? = nil, keepFiles: Bool = false, removeImages: Bool = false,
    progress: (@Sendable (_ removed: Int, _ of: Int) -> Void)? = nil
  ) async throws -> DestroyReport {
    var state: FixtureState?
    var withoutState: String?
    do {
      state = try FixtureState.load(root: root)
      if state == nil { withoutState = "it has no state file" }
    } catch let e as OrchestratorError where e.code == .corruptState {
      withoutState = "its state file is unreadable"
    }
    if let s = state, s.root != root {
      withoutState = "its state file was written for \(s.root)"
      state = nil
    }
    if let s = state, let fixture, s.fixture != fixture {
      throw OrchestratorError(.foreign, "\(root) holds fixture '\(s.fixture)', not '\(fixture)'; nothing was changed")
    }
    let byRoot = try await driver.containers(root: root)
    let allNetworks = try await driver.networks()
    var names = Set(byRoot.compactMap { $0.labels[Labels.fixture] })
    names.formUnion(allNetworks.filter { $0.labels[Labels.root] == root }.compactMap { $0.labels[Labels.fixture] })
    names = names.filter(Names.isFixture)
    let hasFolder =
      SafeTree.openFolder(FixturePaths(root: root).stateFolder).map {
        close($0); return true
      } ?? false
    // Evidence that cthulhu made something here: its state, its labels, or
    // its `.cthulhu` folder. A fixture name alone (from a manifest) is none.
    guard state != nil || !names.isEmpty || hasFolder, let name = state?.fixture ?? fixture ?? names.sorted().first else {
      throw OrchestratorError(
        .noFixture, "\(root) holds no cthulhu fixture (no state, and no container, network or process labelled with this folder)")
    }
    names.insert(name)
    let paths = FixturePaths(root: root)
    let lock: FixtureLock? = hasFolder ? try FixtureLock(paths: paths, command: "destroy") : nil
    var report = DestroyReport(fixture: name, withoutState: state == nil ? withoutState : nil)
    // Faults die with the namespaces; their reapers must not outlive the fixture.
    await faults.stopReapers(root: root)
    await nemesis.stopNemesisProcess(root: root)
    if let pid = state?.ttlReaperPID { HelperProcess.signal(pid: pid, .reaper, root: root) }
    let containers = byRoot.filter { $0.labels[Labels.fixture].map(names.contains) ?? false }
    // Removals block (a process's record, its lock, a file system that
    // waits for the device to unlink): they run on lanes of their own.
    let lanes = Lanes(Self.removalLanes, label: "destroy")
    do {
      // Fault helpers share an instance's namespace: none may outlive it.
      _ = try await driver.removeFaultHelpers(root: root, all: true)
      try await withThrowingTaskGroup(of: String.self) { group in
        for c in containers {
          group.addTask(executorPreference: lanes) {
            try await driver.removeAndWait(id: c.id)
            return c.name
          }
        }
        progress?(0, containers.count)
        for try await n in group {
          report.containers.append(n)
          progress?(report.containers.count, containers.count)
        }
      }
      // The instances are gone: their disk layers unmount (a mount whose
      // daemon died is detached), before any folder under them is removed.
      await DiskLayers(root: root).stopAll()
      for net in allNetworks {
        guard let f = net.labels[Labels.fixture], names.contains(f), net.name == Naming.network(f),
          net.labels[Labels.root] == nil || net.labels[Labels.root] == root
        else { continue }
        do { try await driver.removeNetwork(id: net.id) } catch let e as DriverError where e.code == .notFound {}
        report.networks.append(net.name)
      }
      if removeImages {
        for n in names.sorted() { report.images += try await driver.removeBuiltImages(fixture: n) }
      }
      for n in names.sorted() { await driver.forget(fixture: n) }
    } catch {
      lock?.release()
      throw error
    }
    report.containers.sort()
    guard !keepFiles else {
      report.keptFiles = true
      if var s = state {
        // The folder stays with its files; the state says it holds no
        // instances, so a later apply adopts it and a later destroy removes
        // what cthulhu made in it.
        s.claim(s.ownedEntries)
        s.instances = []
        s.networkID = nil
        s.ttlSeconds = nil
        s.expiresAt = nil
        s.ttlReaperPID = nil
        s.updatedAt = Date()
        try s.save()
      }
      lock?.release()
      return report
    }
    let owned = state?.ownedEntries ?? Self.entriesByLabel(root: root, containers: containers, names: names)
    do {
      if let fd = SafeTree.openFolder(root) {
        defer { close(fd) }
        try await withThrowingTaskGroup(of: Void.self) { group in
          for entry in owned {
            group.addTask(executorPreference: lanes) {
              try Task.checkCancellation()  // (one failed: start no more)
              try SafeTree.remove(entry, in: fd, displayPath: root)
            }
          }
          try await group.waitForAll()
        }
        try SafeTree.remove(".cthulhu", in: fd, displayPath: root)
        report.kept = try SafeTree.entries(of: fd, displayPath: root)
      }
    } catch {
      lock?.release()
      throw error
    }
    lock?.release()
    if report.kept.isEmpty, state?.createdRoot == true { report.removedRoot = SafeTree.removeIfEmpty(root) }
    return report
  }

  /// How many removals run at once.
  static let removalLanes = 8

  /// A fixture's root entries when its state cannot say: the fixture-wide
  /// files, the links of the instances found by label and the folders they
  /// point to, the labelled containers' addresses, and what `spec.json`
  /// lists (names and addresses only, each checked to be one).
  static func entriesByLabel(root: String, containers: [ObservedContainer], names: Set<String>) -> [String] {
    var entries = Set(FixturePaths.fixtureFiles)
    var instances = Set(containers.compactMap { $0.labels[Labels.instance] })
    entries.formUnion(containers.compactMap { $0.ip?.description })
    if let data = FileManager.default.contents(atPath: FixturePaths(root: root).spec),
      let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    {
      for (name, value) in spec where InstanceName.ordinal(name) != nil {
        instances.insert(name)
        if let ip = (value as? [String: Any])?["ip"] as? String, IPv4Address(ip) != nil { entries.insert(ip) }
      }
    }
    for name in instances where InstanceName.ordinal(name) != nil {
      entries.insert(name)
      if let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name), IPv4Address(dest) != nil {
        entries.insert(dest)
      }
    }
    return entries.filter(SafeTree.isEntryName).sorted()
  }

  /// The folders whose fixture is `fixture`, found by label (containers and
  /// networks carry their fixture's folder): how `destroy --fixture-name`
  /// finds a fixture without being given its folder.
  public func roots(ofFixture fixture: String) async throws -> [String] {
    var roots = Set(try await driver.containers(fixture: fixture).compactMap { $0.labels[Labels.root] })
    for net in try await driver.networks() where net.labels[Labels.fixture] == fixture && net.name == Naming.network(fixture) {
      if let r = net.labels[Labels.root] { roots.insert(r) }
    }
    return roots.filter { $0.hasPrefix("/") }.sorted()
  }

  /// What `apply --ttl`'s reaper does when the time is up: destroys the
  /// fixture, unless a later apply started a reaper of its own (then this
  /// one, `reaper`, stands down and nil is returned). An apply or destroy
  /// holding the fixture is waited for, up to `patience`.
  public func destroyWhenDue(root: String, reaper: Int32, patience: Duration = .seconds(300)) async throws -> DestroyReport? {
    let deadline = ContinuousClock.now + patience
    while true {
      guard let s = try FixtureState.load(root: root), s.ttlReaperPID == reaper, s.expiresAt != nil else { return nil }
      do {
        return try await destroy(root: root, fixture: s.fixture)
      } catch let e as OrchestratorError where e.code == .locked && ContinuousClock.now < deadline {
        try await Task.sleep(for: .seconds(1))
      }
    }
  }
}

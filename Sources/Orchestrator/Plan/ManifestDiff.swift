import Foundation
import Manifest

/// What a change to a manifest does to the topology, as a reviewer asks it:
/// two versions of the manifest, no engine, no fixture.
///
/// The old version is resolved exactly as `apply` would resolve it, and the
/// fixture it would make is written down as if it had been applied and
/// nothing had drifted since (its state, its containers, its network, its
/// files). The new version is then resolved against that state — sticky
/// names and addresses included — and the one ``Planner`` diffs the two. So
/// the steps and reasons are the ones `apply` would show to a fixture
/// applied from the old version, and a test checks that they agree.
public enum ManifestDiff {
  /// A plan of `new` against `old` (nil: the manifest is new, every
  /// instance is added), with the rendered files that change.
  public static func plan(old: Manifest?, new: Manifest) throws -> Plan {
    let before: DesiredFixture? = try old.map { try Resolver(manifest: $0, previous: nil).resolve() }
    var observed = before.map(applied) ?? ObservedFixture(state: nil)
    let after = try Resolver(manifest: new, previous: observed.state).resolve()
    // A review speaks of the manifests, not of a machine: the images they
    // name are taken as there (no `pull` steps).
    let built = Set(after.builds.map(\.tag))
    for d in after.instances where !built.contains(d.container.image) {
      observed.imageIDs[d.container.image] = observed.imageIDs[d.container.image] ?? "planned:" + d.container.image
    }
    var plan = try Planner.plan(desired: after, observed: observed, manifest: new.path, basis: "")
    plan.fileDiffs = fileDiffs(plan: plan, before: before, after: after)
    return plan
  }

  /// The world as it is right after `desired` was applied: state, running
  /// containers with their hash labels, the network, files as rendered.
  static func applied(_ desired: DesiredFixture) -> ObservedFixture {
    var state = FixtureState(fixture: desired.fixture, root: desired.root, driver: desired.driver)
    state.subnet = desired.network.subnet
    state.networkID = "planned:" + desired.network.name
    var containers: [ObservedContainer] = []
    var disk: [String: [String: String]] = [:]
    for d in desired.instances {
      let files = Dictionary(d.files.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
      state.instances.append(
        InstanceRecord(
          name: d.name, group: d.group, ip: d.ip, containerID: "planned:" + d.name, specHash: d.specHash,
          filesHash: d.filesHash, files: files, ports: d.container.ports, spec: d.container, membership: d.membership))
      var labels = d.container.labels
      labels[Labels.specHash] = d.specHash
      containers.append(
        ObservedContainer(
          id: "planned:" + d.name, name: d.container.name, image: d.container.image, imageID: d.container.imageID ?? "",
          state: .running, labels: labels, ports: d.container.ports, ip: d.ip))
      disk[d.name] = files
    }
    let network = ObservedNetwork(
      id: "planned:" + desired.network.name, name: desired.network.name, subnets: [desired.network.subnet],
      labels: desired.network.labels)
    let images = Dictionary(desired.builds.map { ($0.tag, "planned:" + $0.tag) }, uniquingKeysWith: { a, _ in a })
    return ObservedFixture(state: state, containers: containers, network: network, imageIDs: images, diskFiles: disk)
  }

  /// For each group, its first instance whose rendered files change: a
  /// short unified diff of each such file (a reviewer wants to see `peers` grow).
  static func fileDiffs(plan: Plan, before: DesiredFixture?, after: DesiredFixture) -> [FileDiff] {
    guard let before else { return [] }
    let changed = Set(plan.steps.filter { $0.action == .update || $0.action == .replace }.compactMap(\.target.instance))
    var seenGroups = Set<String>()
    var out: [FileDiff] = []
    for d in after.instances where changed.contains(d.name) && !seenGroups.contains(d.group) {
      guard let old = before.instance(named: d.name) else { continue }
      let oldFiles = Dictionary(old.files.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
      var any = false
      for f in d.files where oldFiles[f.path]?.sha256 != f.sha256 {
        let was = oldFiles[f.path].map { String(decoding: $0.content, as: UTF8.self) } ?? ""
        let now = String(decoding: f.content, as: UTF8.self)
        out.append(
          FileDiff(
            instance: d.name, group: d.group, path: f.path, diff: UnifiedDiff.make(old: was, new: now, oldName: "a/" + f.path, newName: "b/" + f.path)
          ))
        any = true
      }
      if any { seenGroups.insert(d.group) }
    }
    return out
  }
}

/// A rendered file that a manifest change changes, for one instance.
public struct FileDiff: Codable, Sendable, Hashable {
  public var instance: String
  public var group: String
  /// Below `bindmounts/`: `etc/config.json`.
  public var path: String
  /// Unified diff text (`---`, `+++`, `@@` hunks).
  public var diff: String
}

extension ManifestDiff {
  /// Where `plan --against-git` reads the old version from.
  public struct GitSource: Sendable {
    /// The revision as given (`HEAD~1`, `origin/main`).
    public var revision: String
    /// The manifest's path inside the repository.
    public var path: String
    /// The manifest at that revision, or nil when the file did not exist there.
    public var manifest: Manifest?
  }

  /// The manifest `current` as it was at `revision` of the git repository
  /// that holds it, with the templates, files and build contexts it names
  /// read from that revision too (into `scratch`, a folder the caller owns
  /// and removes), while its paths (its root, its mounts) stay where the
  /// current version's are: the same fixture, two versions of its manifest.
  public static func atGitRevision(_ revision: String, of current: Manifest, scratch: String) async throws -> GitSource {
    let folder = (current.path as NSString).deletingLastPathComponent
    func git(_ args: [String]) async throws -> Data {
      let out = try await Spawner.run(["git", "-C", folder] + args, timeout: .seconds(60))
      guard out.status == 0 else {
        let why = String(decoding: out.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        throw OrchestratorError(.io, "git \(args.joined(separator: " ")): \(why.isEmpty ? "exit \(out.status)" : why)")
      }
      return out.stdout
    }
    let top = String(decoding: try await git(["rev-parse", "--show-toplevel"]), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let realTop = FixtureRoot.realPath(top) ?? top
    func inRepo(_ absolute: String) -> String? {
      let real = FixtureRoot.realPath(absolute) ?? absolute
      guard real.hasPrefix(realTop + "/") else { return nil }
      return String(real.dropFirst(realTop.count + 1))
    }
    guard let rel = inRepo(current.path) else {
      throw OrchestratorError(.io, "\(current.path) is not inside the git repository at \(top)")
    }
    _ = try await git(["rev-parse", "--verify", "--quiet", revision + "^{commit}"])
    // Does the file exist at that revision? (A new manifest has no old version.)
    let listed = try await git(["ls-tree", "--name-only", revision, "--", rel])
    guard !listed.isEmpty else { return GitSource(revision: revision, path: rel, manifest: nil) }
    let text = String(decoding: try await git(["show", "\(revision):\(rel)"]), as: UTF8.self)
    var old: Manifest
    do {
      old = try ManifestLoader.load(text: text, displayPath: "\(revision):\(rel)", absolutePath: current.path)
    } catch {
      throw OrchestratorError(.io, "the manifest at \(revision) does not load:\n\(error.render())")
    }
    // Its sources, as they were at that revision.
    var n = 0
    func fetch(_ absolute: String, folder isFolder: Bool) async throws -> String {
      guard let path = inRepo(absolute) else { return absolute }  // outside the repository: as it is now
      n += 1
      let dest = scratch + "/\(n)"
      if isFolder {
        try FileManager.default.createDirectory(atPath: dest, withIntermediateDirectories: true)
        let tar = try await git(["archive", "--format=tar", revision, "--", path])
        let untar = try await Spawner.run(["tar", "-x", "-C", dest], input: tar, timeout: .seconds(60))
        guard untar.status == 0 else { throw OrchestratorError(.io, "cannot unpack \(revision):\(path)") }
        return dest + "/" + path
      }
      let data = try await git(["show", "\(revision):\(path)"])
      try data.write(to: URL(fileURLWithPath: dest))
      return dest
    }
    for gi in old.groups.indices {
      for ti in old.groups[gi].templates.indices {
        old.groups[gi].templates[ti].source = try await fetch(old.groups[gi].templates[ti].source, folder: false)
      }
      for fi in old.groups[gi].files.indices {
        old.groups[gi].files[fi].source = try await fetch(old.groups[gi].files[fi].source, folder: false)
      }
      if case .build(let context, let dockerfile) = old.groups[gi].source {
        old.groups[gi].source = .build(context: try await fetch(context, folder: true), dockerfile: dockerfile)
      }
    }
    return GitSource(revision: revision, path: rel, manifest: old)
  }
}

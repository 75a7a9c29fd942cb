import Foundation
import Manifest

/// The diff: desired × observed → ``Plan``. A pure function; it reads nothing
/// and changes nothing.
public enum Planner {
  /// Every case apply may meet is decided here, from `observed` and the
  /// explicit inputs, and becomes a typed step: a network or container this
  /// fixture made that the state does not record is adopted (or replaced,
  /// when made from another spec), a container that cannot start again is
  /// replaced, a missing image is pulled, a new subnet readdresses.
  ///
  /// `refused`: the instances whose container the engine would not start
  /// earlier in this apply, with the engine's words (the apply loop learns
  /// them by trying, then plans again): each is replaced, once.
  ///
  /// `addressHeld`: the instances whose container the engine would not
  /// start because it holds their address for no container (a dockerd
  /// killed mid-start leaks it): the network is made anew, with the same
  /// subnet, and every instance with it.
  public static func plan(
    desired: DesiredFixture, observed: ObservedFixture, manifest: String, basis: String, refused: [String: String] = [:],
    addressHeld: [String: String] = [:]
  ) throws -> Plan {
    var steps: [Step] = []
    let networkTarget = Step.Target.network(desired.network.name)
    var networkStep = false
    var networkReplace: Step?
    let recorded = observed.state?.instances ?? []
    let records = Dictionary(recorded.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let desiredByName = desired.byName
    if let net = observed.network {
      if !net.subnets.contains(desired.network.subnet) {
        // Readdressing: every instance gets a new address (same name, same
        // folder and logs, moved), so every instance is replaced after it.
        let was = net.subnets.map(\.description).joined(separator: ", ")
        let moves = recorded.compactMap { r in
          desiredByName[r.name].flatMap { d in d.ip != r.ip ? Step.Move(from: r.ip, to: d.ip) : nil }
        }
        networkReplace = Step(
          target: networkTarget, action: .replace, reasons: ["subnet \(was) → \(desired.network.subnet)"], existing: net.id,
          detach: observed.containers.map(\.id).sorted(), moves: moves)
        networkStep = true
      } else if !addressHeld.isEmpty {
        // The same subnet on a new network: the engine's address book of the old one is wrong.
        let which = addressHeld.keys.sorted().compactMap { desiredByName[$0].map { "\($0.ip) (\($0.name))" } }.joined(separator: ", ")
        networkReplace = Step(
          target: networkTarget, action: .replace,
          reasons: ["the engine holds \(which) for no container (an engine killed mid-start keeps an address allocated); the network is made anew"],
          existing: net.id, detach: observed.containers.map(\.id).sorted(), moves: [], recovery: .addressHeld)
        networkStep = true
      } else if observed.state?.networkID != net.id {
        // Made by an apply killed before it recorded it (or whose create
        // finished in the engine after it gave up): it is this fixture's.
        let why =
          observed.state?.networkID.map { "the state names network \($0); the engine has \(net.id) with this fixture's name and subnet" }
          ?? "network made by an interrupted apply, not in the fixture state"
        steps.append(Step(target: networkTarget, action: .adopt, reasons: [why], existing: net.id, recovery: .unrecorded))
      }
    } else {
      let why = observed.state?.networkID != nil ? "network removed outside cthulhu" : "new fixture network \(desired.network.subnet)"
      steps.append(Step(target: networkTarget, action: .create, reasons: [why]))
      networkStep = true
    }
    var imageSteps: [String: Step.Target] = [:]
    for b in desired.builds where observed.imageIDs[b.tag] == nil {
      let t = Step.Target.image(b.group)
      steps.append(Step(target: t, action: .create, reasons: ["build \(b.tag) from \(b.context)"]))
      imageSteps[b.group] = t
    }

    let desiredNames = Set(desired.instances.map(\.name))
    let live = observed.containersByInstance
    // Deletes: in the state or on the engine, but no longer wanted.
    var deletes: [String: Step] = [:]
    let groupSizes = Dictionary(grouping: desired.instances, by: \.group).mapValues(\.count)
    var gone = Set(recorded.map(\.name)).union(live.keys)
    gone.subtract(desiredNames)
    for name in gone {
      let record = records[name]
      var reasons: [String] = []
      if let r = record {
        if let n = groupSizes[r.group] {
          reasons.append("group '\(r.group)' scaled down to \(n)")
        } else {
          reasons.append("group '\(r.group)' is no longer in the manifest")
        }
      } else {
        reasons.append("container not in the fixture state (left by an interrupted apply)")
      }
      deletes[name] = Step(
        target: .instance(name), action: .delete, reasons: reasons, existing: live[name]?.id, folder: record?.ip,
        recovery: record == nil ? .unrecorded : nil)
    }

    var instanceSteps: [String: Step] = [:]
    let freedIPs = Dictionary(deletes.keys.compactMap { n in records[n].map { ($0.ip, n) } }, uniquingKeysWith: { a, _ in a })
    for d in desired.instances {
      let record = records[d.name]
      var deps: [Step.Target] = []
      if networkStep { deps.append(networkTarget) }
      if let t = imageSteps[d.group] { deps.append(t) }
      // An address or name freed in this apply is taken only after its old holder is gone.
      if let holder = freedIPs[d.ip] { deps.append(.instance(holder)) }
      let target = Step.Target.instance(d.name)
      guard let c = live[d.name] else {
        let why = record?.containerID != nil ? "container removed outside cthulhu" : "new instance \(d.ip) in group '\(d.group)'"
        let who = d.runAs.map { ["as \($0.description)"] } ?? []
        let node = d.container.labels[Labels.node].map { ["on node \($0)"] } ?? []
        instanceSteps[d.name] = Step(target: target, action: .create, reasons: [why] + node + who, dependsOn: deps)
        continue
      }
      // (On a readdress the network step has removed the container already.)
      let existing = networkReplace == nil ? c.id : nil
      if let said = refused[d.name] {
        instanceSteps[d.name] = Step(
          target: target, action: .replace, reasons: ["the engine would not start its container (\(said)); a new one is made"],
          dependsOn: deps, existing: existing, recovery: .startRefused)
        continue
      }
      let liveHash = c.labels[Labels.specHash]
      let unrecorded = record?.containerID != c.id
      if liveHash != d.specHash || networkReplace != nil {
        var reasons = specReasons(old: record?.spec, new: d.container, was: record?.runAs, now: d.runAs)
        if reasons.isEmpty {
          reasons = [
            networkReplace != nil
              ? "its network is replaced"
              : unrecorded
                ? "container \(c.name) not in the fixture state (left by an interrupted apply), made from another spec"
                : "container spec changed"
          ]
        }
        instanceSteps[d.name] = Step(
          target: target, action: .replace, reasons: reasons, dependsOn: deps, existing: existing,
          recovery: unrecorded && networkReplace == nil ? .unrecorded : nil)
        continue
      }
      if let down = observed.diskLayersDown[d.name], !d.diskMounts.isEmpty {
        let which = down.sorted().map { "'\($0)'" }.joined(separator: ", ")
        instanceSteps[d.name] = Step(
          target: target, action: .replace,
          reasons: ["the disk layer of its mount \(which) no longer serves (its daemon ended): the layer is started anew, the instance made anew"],
          dependsOn: deps, existing: existing)
        continue
      }
      if c.state == .dead || c.state == .removing {
        instanceSteps[d.name] = Step(
          target: target, action: .replace, reasons: ["container \(c.state.rawValue): the engine cannot start it again"],
          dependsOn: deps, existing: c.id, recovery: .unstartable)
        continue
      }
      let resume: Step.Resume? =
        switch c.state {
        case .running, .restarting: nil
        case .paused: .unpause
        case .exited where d.runOnce: nil  // it ran, as its group says it should, once
        case .created, .exited, .dead, .removing: .start
        }
      if unrecorded {
        // Made by an apply killed before it recorded it, from this very spec.
        let was = record?.containerID.map { "the state names container \($0); the engine has \(c.name) (\(c.state.rawValue)) from this spec" }
        instanceSteps[d.name] = Step(
          target: target, action: .adopt,
          reasons: [was ?? "container \(c.name) (\(c.state.rawValue)) not in the fixture state (left by an interrupted apply)"],
          dependsOn: deps, resume: resume, existing: c.id, recovery: .unrecorded)
        continue
      }
      let fileReasons = fileChanges(desired: d, record: record, disk: observed.diskFiles[d.name] ?? [:])
      if !fileReasons.isEmpty {
        instanceSteps[d.name] = Step(
          target: target, action: .update, reasons: fileReasons, dependsOn: deps, effect: d.onChange, existing: c.id)
        continue
      }
      switch resume {
      case nil: break
      case .unpause?:
        instanceSteps[d.name] = Step(target: target, action: .start, reasons: ["container paused"], resume: .unpause, existing: c.id)
      case .start?:
        let why = c.state == .created ? "container created but never started" : "container \(c.state.rawValue)"
        instanceSteps[d.name] = Step(target: target, action: .start, reasons: [why], resume: .start, existing: c.id)
      }
    }
    // Images named by `image:` that this machine lacks: pulled once per
    // reference (the step named after its first group), before the
    // instances that need a new container.
    var pulls: [String: Step.Target] = [:]
    var pullOrder: [String] = []
    var imageOf: [String: String] = [:]
    for d in desired.instances where imageSteps[d.group] == nil && imageOf[d.group] == nil {
      imageOf[d.group] = d.container.image
    }
    for d in desired.instances {
      guard let step = instanceSteps[d.name], step.action == .create || step.action == .replace,
        let ref = imageOf[d.group], observed.imageIDs[ref] == nil
      else { continue }
      if pulls[ref] == nil {
        pulls[ref] = .image(d.group)
        pullOrder.append(ref)
      }
      instanceSteps[d.name]!.dependsOn.append(pulls[ref]!)
    }
    for ref in pullOrder {
      steps.append(Step(target: pulls[ref]!, action: .pull, reasons: ["\(ref) is not on this machine"]))
    }
    // depends_on: an instance starts after the changed instances of the groups it depends on.
    let changedByGroup = Dictionary(grouping: desired.instances.filter { instanceSteps[$0.name] != nil }, by: \.group)
    for d in desired.instances where !d.dependsOnGroups.isEmpty {
      guard var step = instanceSteps[d.name] else { continue }
      for g in d.dependsOnGroups {
        step.dependsOn += (changedByGroup[g] ?? []).map { .instance($0.name) }
      }
      step.dependsOn = Array(Set(step.dependsOn)).sorted { $0.description < $1.description }
      instanceSteps[d.name] = step
    }
    if var replace = networkReplace {
      // The old network is removed only once the instances scaled away are gone.
      replace.dependsOn = deletes.values.map(\.target).sorted { $0.description < $1.description }
      steps.insert(replace, at: 0)
    }
    // (Each step's key made once: taking it apart in every comparison was
    // most of a plan's diff.)
    let changes = membershipSteps(
      desired: desired, records: records, unmade: observed.state?.unmadeMembers ?? [], deletes: &deletes, instanceSteps: &instanceSteps)
    let shrinking = Set(changes.filter { $0.action == .leave }.map(\.name))
    let ordered = (Array(deletes.values) + Array(instanceSteps.values) + changes)
      .map { (key: orderKey($0, shrinking: shrinking), step: $0) }
      .sorted { $0.key < $1.key }
    steps += ordered.map(\.step)
    return Plan(fixture: desired.fixture, root: desired.root, manifest: manifest, basis: basis, steps: steps)
  }

  /// What differs between two container specs, in words; `was` and `now`
  /// name the users (`1000:1000(alice)`) where the specs hold numbers.
  static func specReasons(old original: ContainerSpec?, new: ContainerSpec, was: RunAs? = nil, now: RunAs? = nil) -> [String] {
    guard var old = original else { return [] }
    var r: [String] = []
    if old.ip != new.ip {
      // Said once: the address, its folder in bind paths and CTHULHU_* values follow it.
      r.append("address \(old.ip) → \(new.ip)")
      let moved = { (s: String) in
        s == "CTHULHU_IP=\(old.ip)" ? "CTHULHU_IP=\(new.ip)" : s.replacingOccurrences(of: "/\(old.ip)/", with: "/\(new.ip)/")
      }
      old.env = old.env.map(moved)
      old.binds = old.binds.map { Bind(host: moved($0.host), container: moved($0.container), readOnly: $0.readOnly) }
      old.ip = new.ip
    }
    if old.image != new.image {
      r.append("image \(old.image) → \(new.image)")
    } else if old.imageID != new.imageID {
      r.append("image \(new.image) now has id \(short(new.imageID)) (was \(short(old.imageID)))")
    }
    if old.command != new.command { r.append("command changed") }
    let oldEnv = Set(old.env)
    let newEnv = Set(new.env)
    for e in newEnv.subtracting(oldEnv).sorted() {
      r.append("env \(e.split(separator: "=").first ?? "") set to \(e.split(separator: "=", maxSplits: 1).dropFirst().first ?? "")")
    }
    let newKeys = Set(new.env.map { $0.split(separator: "=").first! })
    for e in oldEnv.subtracting(newEnv).sorted() where !newKeys.contains(e.split(separator: "=").first!) {
      r.append("env \(e.split(separator: "=").first!) removed")
    }
    if old.binds != new.binds { r.append("mounts changed") }
    if old.ports != new.ports { r.append("ports \(ports(old.ports)) → \(ports(new.ports))") }
    if old.memory != new.memory { r.append("memory \(old.memory.map(String.init) ?? "unlimited") → \(new.memory.map(String.init) ?? "unlimited")") }
    if old.nanoCPUs != new.nanoCPUs { r.append("cpus changed") }
    if old.stopTimeout != new.stopTimeout { r.append("stop_timeout changed") }
    if old.healthcheck != new.healthcheck { r.append("healthcheck changed") }
    if old.network != new.network { r.append("network \(old.network) → \(new.network)") }
    if let a = old.labels[Labels.node], let b = new.labels[Labels.node], a != b { r.append("node \(a) → \(b)") }
    if old.user != new.user {
      let name = { (spec: String?, who: RunAs?) in spec.map { s in who.map(\.short) ?? s } ?? "the image's" }
      r.append("user \(name(old.user, was)) → \(name(new.user, now))")
    }
    return r
  }

  static func fileChanges(desired d: DesiredInstance, record: InstanceRecord?, disk: [String: String]) -> [String] {
    let written = record?.files ?? [:]
    var r: [String] = []
    for f in d.files {
      if let was = written[f.path] {
        if was != f.sha256 {
          r.append("\(f.path) changed")
        } else if let now = disk[f.path], now != was {
          r.append(now == "missing" ? "\(f.path) deleted outside cthulhu" : "\(f.path) edited outside cthulhu")
        }
      } else {
        r.append("\(f.path) added")
      }
    }
    for path in written.keys.sorted() where !d.files.contains(where: { $0.path == path }) {
      r.append("\(path) no longer rendered")
    }
    return r
  }

  private static func short(_ id: String?) -> String {
    guard let id else { return "none" }
    let hex = id.hasPrefix("sha256:") ? id.dropFirst(7) : Substring(id)
    return String(hex.prefix(12))
  }

  private static func ports(_ p: [PortBinding]) -> String {
    p.isEmpty ? "none" : p.map { "\($0.host.map { "\($0):" } ?? "")\($0.container)/\($0.proto)" }.joined(separator: ",")
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The Planner on literal worlds (docker/compose's `reconcile_test.go` is the
/// model): a ``DesiredFixture`` and an ``ObservedFixture`` written by hand,
/// no engine, no files; each test asserts the exact steps of one case apply
/// may meet, the recoveries included.
final class PlannerTests: XCTestCase {
  static let subnet = IPv4Network("172.28.5.0/24")!
  static let root = "/fixtures/kv"

  // MARK: - Worlds

  func ip(_ last: Int, in subnet: IPv4Network = PlannerTests.subnet) -> IPv4Address {
    IPv4Address(subnet.address.value + UInt32(last))
  }

  func instance(
    _ ordinal: Int, group: String = "node", image: String = "app:1", spec: String = "v1", ip address: IPv4Address? = nil,
    runOnce: Bool = false, dependsOn: [String] = [], onChange: OnChange = .restart
  ) -> DesiredInstance {
    let name = InstanceName.make(ordinal)
    let a = address ?? ip(ordinal + 1)
    let container = ContainerSpec(
      name: "kv-" + name, image: image, imageID: "sha256:" + image, hostname: name,
      labels: [Labels.fixture: "kv", Labels.root: Self.root, Labels.instance: name, Labels.group: group],
      network: "cthulhu-kv", ip: a)
    return DesiredInstance(
      name: name, group: group, ip: a, index: ordinal - 1, ordinal: ordinal, container: container,
      files: [RenderedFile(path: "etc/config.json", mode: 0o644, content: Data("{}".utf8), sha256: "f-" + name, source: "/t/config.json")],
      onChange: onChange, dependsOnGroups: dependsOn, hasHealthcheck: false, runOnce: runOnce,
      specHash: "spec-\(name)-\(spec)", filesHash: "files-" + name)
  }

  func desired(_ instances: [DesiredInstance], subnet: IPv4Network = PlannerTests.subnet, builds: [DesiredBuild] = []) -> DesiredFixture {
    DesiredFixture(
      fixture: "kv", root: Self.root, driver: .docker,
      network: NetworkSpec(name: "cthulhu-kv", subnet: subnet, gateway: subnet.gateway, labels: [Labels.fixture: "kv", Labels.root: Self.root]),
      builds: builds, instances: instances)
  }

  /// The world right after `d` was applied: recorded, running, files as rendered.
  func converged(_ d: DesiredFixture) -> ObservedFixture {
    var state = FixtureState(fixture: "kv", root: Self.root, driver: .docker)
    state.subnet = d.network.subnet
    state.networkID = "net1"
    var containers: [ObservedContainer] = []
    var disk: [String: [String: String]] = [:]
    for i in d.instances {
      let files = Dictionary(uniqueKeysWithValues: i.files.map { ($0.path, $0.sha256) })
      state.upsert(
        InstanceRecord(
          name: i.name, group: i.group, ip: i.ip, containerID: "c-" + i.name, specHash: i.specHash, filesHash: i.filesHash,
          files: files, spec: i.container))
      containers.append(container(i, state: .running))
      disk[i.name] = files
    }
    var images = Dictionary(d.instances.map { ($0.container.image, "sha256:" + $0.container.image) }, uniquingKeysWith: { a, _ in a })
    for b in d.builds { images[b.tag] = "sha256:" + b.tag }
    return ObservedFixture(
      state: state, containers: containers,
      network: ObservedNetwork(id: "net1", name: "cthulhu-kv", subnets: [d.network.subnet], labels: d.network.labels),
      imageIDs: images, diskFiles: disk)
  }

  func container(_ i: DesiredInstance, state: ContainerState, id: String? = nil, hash: String? = nil) -> ObservedContainer {
    var labels = i.container.labels
    labels[Labels.specHash] = hash ?? i.specHash
    return ObservedContainer(
      id: id ?? "c-" + i.name, name: i.container.name, image: i.container.image, imageID: "sha256:" + i.container.image, state: state,
      labels: labels, ip: i.ip)
  }

  func setContainer(_ o: inout ObservedFixture, _ c: ObservedContainer) {
    o.containers.removeAll { $0.name == c.name }
    o.containers.append(c)
  }

  func plan(_ d: DesiredFixture, _ o: ObservedFixture, refused: [String: String] = [:]) throws -> Plan {
    try Planner.plan(desired: d, observed: o, manifest: "/m/cthulhu.yaml", basis: "b", refused: refused)
  }

  /// One line a step: what the executor acts on, not the reasons.
  func lines(_ p: Plan) -> [String] {
    p.steps.map { s in
      var out = "\(s.target) \(s.action.rawValue)"
      if let e = s.existing { out += " existing=\(e)" }
      if let r = s.resume { out += " resume=\(r.rawValue)" }
      if let r = s.recovery { out += " recovery=\(r.rawValue)" }
      if let f = s.folder { out += " folder=\(f)" }
      if let d = s.detach { out += " detach=" + d.joined(separator: ",") }
      if let m = s.moves { out += " moves=" + m.map { "\($0.from)>\($0.to)" }.joined(separator: ",") }
      if let e = s.effect { out += " effect=\(e)" }
      if !s.dependsOn.isEmpty { out += " after=" + s.dependsOn.map(\.description).joined(separator: ",") }
      return out
    }
  }

  func reasons(_ p: Plan, _ target: Step.Target) -> [String] { p.steps.first { $0.target == target }?.reasons ?? ["(no step)"] }

  // MARK: - Fresh and converged

  func testAFreshFixtureCreatesTheNetworkThenEveryInstance() throws {
    let d = desired([instance(1), instance(2)])
    let p = try plan(d, ObservedFixture(state: nil, imageIDs: ["app:1": "sha256:app:1"]))
    XCTAssertEqual(
      lines(p),
      [
        "network:cthulhu-kv create",
        "instance:i001 create after=network:cthulhu-kv",
        "instance:i002 create after=network:cthulhu-kv",
      ])
    XCTAssertEqual(reasons(p, .network("cthulhu-kv")), ["new fixture network 172.28.5.0/24"])
  }

  func testAConvergedFixturePlansNothing() throws {
    let d = desired([instance(1), instance(2)])
    XCTAssertEqual(lines(try plan(d, converged(d))), [])
  }

  // MARK: - The network

  func testAHalfMadeNetworkIsAdopted() throws {
    // A killed apply's network create finished in the engine; the state never heard of it.
    let d = desired([instance(1)])
    var o = converged(d)
    o.state?.networkID = nil
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["network:cthulhu-kv adopt existing=net1 recovery=unrecorded"])
    XCTAssertEqual(reasons(p, .network("cthulhu-kv")), ["network made by an interrupted apply, not in the fixture state"])
    o.state?.networkID = "net0"
    XCTAssertEqual(lines(try plan(d, o)), ["network:cthulhu-kv adopt existing=net1 recovery=unrecorded"])
    XCTAssertEqual(
      reasons(try plan(d, o), .network("cthulhu-kv")), ["the state names network net0; the engine has net1 with this fixture's name and subnet"])
  }

  func testAHalfMadeFirstApplyAdoptsTheNetworkAndCreatesTheInstances() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    o.state = nil
    o.containers = []
    o.diskFiles = [:]
    XCTAssertEqual(
      lines(try plan(d, o)),
      [
        "network:cthulhu-kv adopt existing=net1 recovery=unrecorded",
        "instance:i001 create",
      ])
  }

  func testANetworkRemovedOutsideCthulhuIsMadeAgain() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    o.network = nil
    o.containers = []
    XCTAssertEqual(
      lines(try plan(d, o)),
      [
        "network:cthulhu-kv create",
        "instance:i001 create after=network:cthulhu-kv",
      ])
    XCTAssertEqual(reasons(try plan(d, o), .network("cthulhu-kv")), ["network removed outside cthulhu"])
    XCTAssertEqual(reasons(try plan(d, o), .instance("i001")), ["container removed outside cthulhu"])
  }

  func testANetworkWithAnotherSubnetIsReaddressed() throws {
    let old = desired([instance(1), instance(2)])
    var o = converged(old)
    let newSubnet = IPv4Network("10.9.9.0/24")!
    // i002 keeps .3 in the new subnet too; both addresses change.
    let d = desired([instance(1, ip: ip(2, in: newSubnet)), instance(2, ip: ip(3, in: newSubnet))], subnet: newSubnet)
    o.network?.subnets = [Self.subnet]
    let p = try plan(d, o)
    XCTAssertEqual(
      lines(p),
      [
        "network:cthulhu-kv replace existing=net1 detach=c-i001,c-i002 moves=172.28.5.2>10.9.9.2,172.28.5.3>10.9.9.3",
        "instance:i001 replace after=network:cthulhu-kv",
        "instance:i002 replace after=network:cthulhu-kv",
      ])
    XCTAssertEqual(reasons(p, .network("cthulhu-kv")), ["subnet 172.28.5.0/24 → 10.9.9.0/24"])
    XCTAssertEqual(reasons(p, .instance("i001")), ["address 172.28.5.2 → 10.9.9.2"])
  }

  // MARK: - Containers the state does not record

  func testAnUnrecordedContainerOfThisSpecIsAdoptedAndBroughtUp() throws {
    let d = desired([instance(1), instance(2)])
    var o = converged(d)
    o.state?.removeInstance("i002")
    o.diskFiles["i002"] = nil
    for (state, resume) in [(ContainerState.created, " resume=start"), (.exited, " resume=start"), (.paused, " resume=unpause"), (.running, "")] {
      setContainer(&o, container(d.instances[1], state: state))
      XCTAssertEqual(lines(try plan(d, o)), ["instance:i002 adopt existing=c-i002\(resume) recovery=unrecorded"], "\(state)")
    }
    XCTAssertEqual(
      reasons(try plan(d, o), .instance("i002")), ["container kv-i002 (running) not in the fixture state (left by an interrupted apply)"])
  }

  func testAContainerOtherThanTheOneRecordedIsAdoptedWhenItHasThisSpec() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    setContainer(&o, container(d.instances[0], state: .created, id: "c-new"))
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i001 adopt existing=c-new resume=start recovery=unrecorded"])
    XCTAssertEqual(reasons(p, .instance("i001")), ["the state names container c-i001; the engine has kv-i001 (created) from this spec"])
  }

  func testAnUnrecordedContainerOfAnotherSpecIsReplaced() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    o.state?.removeInstance("i001")
    setContainer(&o, container(d.instances[0], state: .created, hash: "spec-i001-v0"))
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i001 replace existing=c-i001 recovery=unrecorded"])
    XCTAssertEqual(
      reasons(p, .instance("i001")), ["container kv-i001 not in the fixture state (left by an interrupted apply), made from another spec"])
  }

  func testAnUnrecordedContainerOfAnInstanceNoLongerWantedIsDeleted() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    o.containers.append(container(instance(2), state: .created))
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i002 delete existing=c-i002 recovery=unrecorded"])
    XCTAssertEqual(reasons(p, .instance("i002")), ["container not in the fixture state (left by an interrupted apply)"])
  }

  // MARK: - Recorded containers

  func testAStaleContainerWithTheInstancesNameButAnotherSpecIsReplaced() throws {
    let d = desired([instance(1, image: "app:2", spec: "v2")])
    var o = converged(desired([instance(1, image: "app:1", spec: "v1")]))
    o.imageIDs["app:2"] = "sha256:app:2"
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i001 replace existing=c-i001"])
    XCTAssertEqual(reasons(p, .instance("i001")), ["image app:1 → app:2"])
  }

  func testStoppedContainersAreStartedAndOnesTheEngineCannotStartAreReplaced() throws {
    let d = desired([instance(1), instance(2), instance(3), instance(4), instance(5)])
    var o = converged(d)
    setContainer(&o, container(d.instances[0], state: .exited))
    setContainer(&o, container(d.instances[1], state: .created))
    setContainer(&o, container(d.instances[2], state: .paused))
    setContainer(&o, container(d.instances[3], state: .dead))
    setContainer(&o, container(d.instances[4], state: .removing))
    let p = try plan(d, o)
    XCTAssertEqual(
      lines(p),
      [
        "instance:i001 start existing=c-i001 resume=start",
        "instance:i002 start existing=c-i002 resume=start",
        "instance:i003 start existing=c-i003 resume=unpause",
        "instance:i004 replace existing=c-i004 recovery=unstartable",
        "instance:i005 replace existing=c-i005 recovery=unstartable",
      ])
    XCTAssertEqual(reasons(p, .instance("i001")), ["container exited"])
    XCTAssertEqual(reasons(p, .instance("i002")), ["container created but never started"])
    XCTAssertEqual(reasons(p, .instance("i003")), ["container paused"])
    XCTAssertEqual(reasons(p, .instance("i004")), ["container dead: the engine cannot start it again"])
  }

  func testARunOnceInstanceThatExitedIsLeftAlone() throws {
    let d = desired([instance(1, runOnce: true), instance(2)])
    var o = converged(d)
    setContainer(&o, container(d.instances[0], state: .exited))
    setContainer(&o, container(d.instances[1], state: .exited))
    XCTAssertEqual(lines(try plan(d, o)), ["instance:i002 start existing=c-i002 resume=start"])
  }

  func testAContainerRemovedOutsideCthulhuIsCreated() throws {
    let d = desired([instance(1), instance(2)])
    var o = converged(d)
    o.containers.removeAll { $0.name == "kv-i002" }
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i002 create"])
    XCTAssertEqual(reasons(p, .instance("i002")), ["container removed outside cthulhu"])
  }

  func testChangedFilesUpdateWithTheGroupsOnChange() throws {
    let d = desired([instance(1, onChange: .signal("HUP"))])
    var o = converged(d)
    var r = try XCTUnwrap(o.state?.instance(named: "i001"))
    r.files["etc/config.json"] = "f-old"
    o.state?.upsert(r)
    let p = try plan(d, o)
    XCTAssertEqual(lines(p), ["instance:i001 update existing=c-i001 effect=signal:HUP"])
    XCTAssertEqual(reasons(p, .instance("i001")), ["etc/config.json changed"])
  }

  // MARK: - Starts refused in this apply

  func testAContainerWhoseStartWasRefusedOnceIsReplaced() throws {
    let d = desired([instance(1), instance(2)])
    var o = converged(d)
    setContainer(&o, container(d.instances[1], state: .created))
    let p = try plan(d, o, refused: ["i002": "start c-i002: task c-i002: already exists"])
    XCTAssertEqual(lines(p), ["instance:i002 replace existing=c-i002 recovery=startRefused"])
    XCTAssertEqual(
      reasons(p, .instance("i002")), ["the engine would not start its container (start c-i002: task c-i002: already exists); a new one is made"])
  }

  func testASecondRefusalOfTheSameInstanceIsReportedNotRetried() {
    let step = Step(target: .instance("i002"), action: .replace, reasons: [], existing: "c-i002", recovery: .startRefused)
    let refusal = DriverError(.leftoverRuntimeState, "start c-i002: task c-i002: already exists")
    let f = Executor.Failure(target: "instance:i002", step: step, call: .start, error: refusal)
    XCTAssertEqual(ApplyRetry.verdict(f, refused: []), .refused(instance: "i002"), "the first refusal: plan a replace")
    XCTAssertEqual(ApplyRetry.verdict(f, refused: ["i002"]), .report, "the second: reported")
    XCTAssertEqual(ApplyRetry.verdict(f, refused: ["i001"]), .refused(instance: "i002"), "another instance's refusal is not this one's")
  }

  func testWhatAFreshLookCanRepairAndWhatIsReported() {
    let create = Step(target: .instance("i001"), action: .create, reasons: [])
    func verdict(_ call: Executor.Call?, _ error: any Error) -> ApplyRetry.Verdict {
      ApplyRetry.verdict(Executor.Failure(target: "instance:i001", step: create, call: call, error: error), refused: [])
    }
    XCTAssertEqual(verdict(.start, DriverError(.engine(status: 500), "something nobody foresaw")), .refused(instance: "i001"))
    XCTAssertEqual(verdict(.start, DriverError.engineGone("lost the connection")), .report, "no engine: nothing to repair")
    XCTAssertEqual(verdict(.start, DriverError.engineUnavailable("no socket")), .report)
    XCTAssertEqual(verdict(.createContainer, DriverError.nameInUse("name in use")), .replanOnceSeen)
    XCTAssertEqual(verdict(.createNetwork, DriverError.conflict("pool overlaps")), .replanOnceSeen)
    XCTAssertEqual(verdict(.createContainer, DriverError(.imageUnavailable, "no such image")), .report)
    XCTAssertEqual(verdict(nil, DriverError.notFound("no such container")), .replan)
    XCTAssertEqual(verdict(nil, OrchestratorError(.healthcheck, "instance i001 is unhealthy")), .report)
    XCTAssertEqual(
      ApplyRetry.verdict(Executor.Failure(target: "faults", error: DriverError.notFound("x")), refused: []), .report,
      "a failure of no step is reported")
  }

  func testARetryThatWouldRepeatTheFailedStepIsNotMade() throws {
    let d = desired([instance(1)])
    let o = ObservedFixture(state: nil, network: converged(d).network, imageIDs: ["app:1": "sha256:app:1"])
    let failed = Step(target: .instance("i001"), action: .create, reasons: [], dependsOn: [.network("cthulhu-kv")])
    var again = try plan(d, o)
    XCTAssertTrue(ApplyRetry.repeats(failed, in: again), "the same create (its dependencies aside) repeats")
    var seen = o
    seen.containers = [container(d.instances[0], state: .created)]
    again = try plan(d, seen)
    XCTAssertFalse(ApplyRetry.repeats(failed, in: again), "the container that held the name is adopted now")
  }

  // MARK: - Order

  func testAnAddressFreedByAScaledAwayInstanceIsTakenOnlyAfterItIsGone() throws {
    // i003 (group node) is scaled away; the new i004 of group web takes its address.
    let old = desired([instance(1), instance(2), instance(3)])
    var o = converged(old)
    o.imageIDs["web:1"] = "sha256:web:1"
    let d = desired([instance(1), instance(2), instance(4, group: "web", image: "web:1", ip: ip(4))])
    let p = try plan(d, o)
    XCTAssertEqual(
      lines(p),
      [
        "instance:i003 delete existing=c-i003 folder=172.28.5.4",
        "instance:i004 create after=instance:i003",
      ])
    XCTAssertEqual(reasons(p, .instance("i003")), ["group 'node' scaled down to 2"])
  }

  func testDependsOnStartsAnInstanceAfterTheChangedInstancesOfItsDependency() throws {
    let d = desired([
      instance(1), instance(2), instance(3, group: "client", image: "client:1", dependsOn: ["node"]),
    ])
    var o = converged(desired([instance(1)]))
    o.imageIDs["client:1"] = "sha256:client:1"
    XCTAssertEqual(
      lines(try plan(d, o)),
      [
        "instance:i002 create",
        "instance:i003 create after=instance:i002",
      ])
  }

  // MARK: - Images

  func testAMissingImageIsPulledOnceBeforeTheInstancesThatNeedIt() throws {
    let d = desired([instance(1), instance(2, group: "more"), instance(3, group: "other", image: "other:1")])
    var o = ObservedFixture(state: nil, network: converged(d).network)
    o.imageIDs = ["other:1": "sha256:other:1"]
    XCTAssertEqual(
      lines(try plan(d, o)),
      [
        "network:cthulhu-kv adopt existing=net1 recovery=unrecorded",
        "image:node pull",
        "instance:i001 create after=image:node",
        "instance:i002 create after=image:node",
        "instance:i003 create",
      ])
    XCTAssertEqual(reasons(try plan(d, o), .image("node")), ["app:1 is not on this machine"])
    // Nothing to create: nothing to pull.
    var running = converged(d)
    running.imageIDs["app:1"] = nil
    XCTAssertEqual(lines(try plan(d, running)), [])
  }

  func testAnImageToBuildIsBuiltBeforeItsInstances() throws {
    let build = DesiredBuild(group: "node", context: "/src/app", dockerfile: "Dockerfile", tag: "cthulhu-kv-node:0123456789ab")
    let d = desired([instance(1, image: build.tag)], builds: [build])
    var o = converged(d)
    o.imageIDs[build.tag] = nil
    o.containers = []
    XCTAssertEqual(
      lines(try plan(d, o)),
      [
        "image:node create",
        "instance:i001 create after=image:node",
      ])
    XCTAssertEqual(reasons(try plan(d, o), .image("node")), ["build cthulhu-kv-node:0123456789ab from /src/app"])
  }

  func testRecoveriesReadAsText() throws {
    let d = desired([instance(1), instance(2), instance(3)])
    var o = converged(d)
    o.state?.networkID = nil
    o.state?.removeInstance("i002")
    setContainer(&o, container(d.instances[1], state: .created))
    setContainer(&o, container(d.instances[2], state: .exited))
    let p = try plan(d, o, refused: ["i003": "start c-i003: the engine answered 500: failed to start shim"])
    XCTAssertEqual(
      PlanRenderer.text(p),
      """
      cthulhu will make these changes to fixture 'kv' (/fixtures/kv):

        ~   network:cthulhu-kv  adopt
              # network made by an interrupted apply, not in the fixture state
        ~   instance:i002  adopt (then start)
              # container kv-i002 (created) not in the fixture state (left by an interrupted apply)
        -/+ instance:i003  replace
              # the engine would not start its container (start c-i003: the engine answered 500: failed to start shim); a new one is made

      Plan: 1 to add, 1 to change, 1 to destroy.

      """)
  }

  // MARK: - The plan as data

  func testTargetsAreTypedAndWrittenAsText() throws {
    let d = desired([instance(1)])
    var o = converged(d)
    o.state?.networkID = nil
    setContainer(&o, container(d.instances[0], state: .paused))
    let p = try plan(d, o)
    let json = try PlanRenderer.json(p)
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    let steps = try XCTUnwrap(doc["steps"] as? [[String: Any]])
    XCTAssertEqual(steps.map { $0["target"] as? String }, ["network:cthulhu-kv", "instance:i001"])
    XCTAssertEqual(steps.map { $0["action"] as? String }, ["adopt", "start"])
    XCTAssertEqual(steps.last?["resume"] as? String, "unpause")
    XCTAssertEqual(doc["formatVersion"] as? Int, 2)
    XCTAssertEqual(try JSONDecoder().decode(Plan.self, from: Data(json.utf8)), p)
    XCTAssertEqual(Step.Target("image:node"), .image("node"))
    XCTAssertNil(Step.Target("i001"))
    XCTAssertNil(Step.Target("volume:x"))
    XCTAssertThrowsError(try JSONDecoder().decode(Step.Target.self, from: Data("\"i001\"".utf8)))
  }
}

import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// The process driver against the real host: processes, /proc, and (as
/// root) network namespaces. Each test has its own fixture name and its own
/// registry folder, and kills what it started even when it fails.
final class ProcessDriverTests: XCTestCase {
  var fixture = ""
  var tmp = ""
  var driver: ProcessDriver!

  override func setUp() async throws {
    try Host.requireBusybox()
    fixture = Host.uniqueName("pdt")
    tmp = try Host.tempDir(fixture)
    driver = ProcessDriver(environment: ["CTHULHU_PROCESS_REGISTRY": tmp + "/registry", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
  }

  override func tearDown() async throws {
    if let driver {
      for c in (try? await driver.containers(fixture: fixture)) ?? [] { try? await driver.remove(id: c.id, force: true) }
      for n in (try? await driver.networks()) ?? [] where n.labels[Labels.fixture] == fixture { try? await driver.removeNetwork(id: n.id) }
    }
    Host.killLeftovers(fixture: fixture)
    try? FileManager.default.removeItem(atPath: tmp)
  }

  var root: String { tmp + "/fixture" }

  func network(_ mode: NetworkMode = .loopback) -> NetworkSpec {
    let third = UInt32.random(in: 1...250)
    let base = mode == .loopback ? IPv4Address((127 << 24) | (78 << 16) | (third << 8)) : IPv4Address((10 << 24) | (78 << 16) | (third << 8))
    let subnet = IPv4Network(address: base, prefix: 24)
    return NetworkSpec(
      name: Naming.network(fixture), subnet: subnet, gateway: subnet.gateway,
      labels: [Labels.fixture: fixture, Labels.root: root, Labels.networkMode: mode.rawValue])
  }

  /// A spec as the Resolver makes it for the process driver.
  func spec(_ instance: String, _ command: [String], on net: NetworkSpec, host n: Int = 0, health: HealthcheckSpec? = nil) throws -> ContainerSpec {
    let ip = net.subnet.host(n)
    let dir = FixturePaths(root: root).instanceFolder(ip: ip)
    try FileManager.default.createDirectory(atPath: dir + "/bindmounts/var", withIntermediateDirectories: true)
    return ContainerSpec(
      name: Naming.container(fixture, instance), image: "", imageID: "process", command: command,
      env: ["CTHULHU_FIXTURE=\(fixture)", "CTHULHU_NAME=\(instance)", "CTHULHU_IP=\(ip)"], hostname: instance,
      labels: [Labels.fixture: fixture, Labels.root: root, Labels.instance: instance, Labels.group: "g", Labels.specHash: "h"],
      binds: [Bind(host: dir + "/bindmounts/var", container: dir + "/bindmounts/var")], network: net.name, ip: ip,
      stopTimeout: 1, healthcheck: health)
  }

  let sleeper = [Host.busybox, "sleep", "1000"]

  func state(_ id: String) async throws -> ContainerState { try await driver.inspect(id: id).state }

  // MARK: - Lifecycle

  func testCreateStartPauseStopKillRemove() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let spec = try spec("i001", sleeper, on: net)
    let id = try await driver.create(spec)
    let v1 = try await state(id)
    XCTAssertEqual(v1, .created)
    let listed = try await driver.containers(fixture: fixture)
    XCTAssertEqual(listed.map(\.name), [spec.name])
    XCTAssertEqual(listed.first?.labels, spec.labels, "labels are reported exactly as given")
    XCTAssertEqual(listed.first?.ip, spec.ip)

    try await driver.start(id: id)
    var d = try await driver.inspect(id: id)
    XCTAssertEqual(d.state, .running)
    XCTAssertGreaterThan(d.pid, 0)
    let pid = d.pid
    // Its own session and process group, in its fixture folder.
    let stat = try XCTUnwrap(ProcStat.read(pid))
    XCTAssertEqual(stat.session, pid)
    XCTAssertEqual(stat.processGroup, pid)
    XCTAssertEqual(
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd"), FixturePaths(root: root).instanceFolder(ip: spec.ip))
    try await driver.start(id: id)
    let v2 = try await driver.inspect(id: id).pid
    XCTAssertEqual(v2, pid, "start of a running instance changes nothing")

    try await driver.pause(id: id)
    let v3 = try await state(id)
    XCTAssertEqual(v3, .paused)
    XCTAssertEqual(ProcStat.read(pid)?.state, "T")
    try await driver.unpause(id: id)
    let v4 = try await state(id)
    XCTAssertEqual(v4, .running)

    try await driver.stop(id: id, timeout: 5)
    d = try await driver.inspect(id: id)
    XCTAssertEqual(d.state, .exited)
    XCTAssertEqual(d.pid, 0)
    XCTAssertEqual(d.exitCode, 128 + Int(SIGTERM), "this process was the parent, so the code is known")
    XCTAssertNil(ProcStat.read(pid).flatMap { $0.state == "Z" ? nil : $0 })

    try await driver.restart(id: id, timeout: 1)
    let second = try await driver.inspect(id: id)
    XCTAssertEqual(second.state, .running)
    XCTAssertNotEqual(second.pid, pid)

    try await driver.kill(id: id, signal: "KILL")
    let v5 = try await state(id)
    XCTAssertEqual(v5, .exited)
    try await driver.start(id: id)
    do {
      try await driver.remove(id: id, force: false)
      XCTFail("removing a running instance needs force")
    } catch let e as DriverError { XCTAssertEqual(e.code, .conflict) }
    try await driver.remove(id: id, force: true)
    let v6 = try await driver.containers(fixture: fixture).isEmpty
    XCTAssertTrue(v6)
    do {
      _ = try await driver.inspect(id: id)
      XCTFail("a removed instance is gone")
    } catch let e as DriverError { XCTAssertEqual(e.code, .notFound) }
    XCTAssertTrue(Host.processes(fixture: fixture).isEmpty)
  }

  func testStopEscalatesToKillForTheWholeGroup() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    // A leader that ignores SIGTERM, and a child in its group.
    let stubborn = [Host.busybox, "sh", "-c", "trap '' TERM; \(Host.busybox) sleep 1000 & while :; do \(Host.busybox) sleep 0.1; done"]
    let id = try await driver.create(try spec("i001", stubborn, on: net))
    try await driver.start(id: id)
    try await Host.eventually("the child started") { Host.processes(fixture: fixture).count >= 2 }
    let t0 = Date()
    try await driver.stop(id: id, timeout: 1)
    let took = Date().timeIntervalSince(t0)
    XCTAssertGreaterThanOrEqual(took, 0.9, "SIGTERM was ignored for the whole timeout")
    XCTAssertLessThan(took, 5)
    let v7 = try await state(id)
    XCTAssertEqual(v7, .exited)
    try await Host.eventually("no process of the group is left") { Host.processes(fixture: fixture).isEmpty }
  }

  func testAReusedPIDIsNeverTakenForTheInstance() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let id = try await driver.create(try spec("i001", sleeper, on: net))
    try await driver.start(id: id)
    let pid = try await driver.inspect(id: id).pid
    // The record now says the PID started at another time: what it would say
    // had the instance exited and the PID gone to someone else.
    var r = try XCTUnwrap(driver.registry.instance(id: id))
    r.startTime = (r.startTime ?? 0) + 1
    try driver.registry.save(r)
    let v8 = try await state(id)
    XCTAssertEqual(v8, .exited)
    let v9 = try await driver.inspect(id: id).pid
    XCTAssertEqual(v9, 0)
    try await driver.stop(id: id, timeout: 1)
    do {
      try await driver.kill(id: id, signal: "KILL")
      XCTFail("kill of an exited instance is refused")
    } catch let e as DriverError { XCTAssertEqual(e.code, .conflict) }
    try await driver.remove(id: id, force: true)
    XCTAssertEqual(ProcStat.read(pid)?.state != nil, true, "the stranger holding the PID was not signalled")
    XCTAssertNotEqual(ProcStat.read(pid)?.state, "Z")
    kill(pid, SIGKILL)
  }

  func testAStartCutShortIsAdoptedOrForgotten() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let id = try await driver.create(try spec("i001", sleeper, on: net))
    // As a cthulhu killed between posix_spawn and recording the PID leaves it.
    var r = try XCTUnwrap(driver.registry.instance(id: id))
    r.spawning = Date()
    try driver.registry.save(r)
    let pid = try Spawner.spawn(r.argv, env: r.env, cwd: r.cwd, streams: .init())
    // posix_spawn returns while the kernel is still inside execve, before the
    // new image's environment is readable in /proc: the next cthulhu looks
    // later than that.
    let marker = r.marker
    try await Host.eventually("the spawned process shows its environment") {
      (FileManager.default.contents(atPath: "/proc/\(pid)/environ").map { String(decoding: $0, as: UTF8.self) } ?? "").contains(marker)
    }
    let d = try await driver.inspect(id: id)
    XCTAssertEqual(d.state, .running)
    XCTAssertEqual(d.pid, pid, "the spawned process is found by its CTHULHU_ID and adopted")
    try await driver.stop(id: id, timeout: 1)
    let stopped = try await driver.inspect(id: id).state
    XCTAssertEqual(stopped, .exited)
    // Killed before the spawn: nothing to adopt, and the next start starts it.
    r = try XCTUnwrap(driver.registry.instance(id: id))
    r.spawning = Date()
    try driver.registry.save(r)
    let forgotten = try await driver.inspect(id: id).state
    XCTAssertEqual(forgotten, .exited)
    XCTAssertNil(driver.registry.instance(id: id)?.spawning)
    try await driver.start(id: id)
    XCTAssertEqual(Host.processes(fixture: fixture).count, 1)
    let exec = try await driver.exec(id: id, command: [Host.busybox, "sh", "-c", "echo ${CTHULHU_ID:-none}"])
    XCTAssertEqual(exec.stdout, "none\n", "only the instance's own process carries the marker")
  }

  func testKillSendsTheSignalToTheFirstProcess() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let trapper = [Host.busybox, "sh", "-c", "trap 'echo got HUP' HUP; while :; do \(Host.busybox) sleep 0.05; done"]
    let s = try spec("i001", trapper, on: net)
    let id = try await driver.create(s)
    try await driver.start(id: id)
    try await Task.sleep(for: .milliseconds(100))
    try await driver.kill(id: id, signal: "SIGHUP")
    let log = FixturePaths(root: root).file(ip: s.ip, path: "var/i001.log")
    try await Host.eventually("the trap ran") { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("got HUP") == true }
    let v10 = try await state(id)
    XCTAssertEqual(v10, .running)
    do {
      try await driver.kill(id: id, signal: "NOPE")
      XCTFail("unknown signal")
    } catch let e as DriverError { XCTAssertEqual(e.code, .unsupported) }
  }

  // MARK: - Output, exec, health

  func testLogsExecAndEnvironment() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let s = try spec("i001", [Host.busybox, "sh", "-c", "echo out line; echo err line >&2; exec \(Host.busybox) sleep 1000"], on: net)
    let id = try await driver.create(s)
    try await driver.start(id: id)
    let log = FixturePaths(root: root).file(ip: s.ip, path: "var/i001.log")
    try await Host.eventually("output reached the log") { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("err line") == true }
    var lines: [String] = []
    for try await l in driver.logs(id: id, follow: false, since: nil, timestamps: false) { lines.append(l.text) }
    XCTAssertEqual(Set(lines), ["out line", "err line"])

    let r = try await driver.exec(id: id, command: [Host.busybox, "sh", "-c", "echo $CTHULHU_NAME $CTHULHU_IP; pwd; echo oops >&2; exit 3"])
    XCTAssertEqual(r.exitCode, 3)
    XCTAssertEqual(r.stdout, "i001 \(s.ip)\n\(FixturePaths(root: root).instanceFolder(ip: s.ip))\n")
    XCTAssertEqual(r.stderr, "oops\n")
    let missing = try await driver.exec(id: id, command: ["/no/such/program"])
    XCTAssertEqual(missing.exitCode, 127)
    XCTAssertTrue(missing.stderr.contains("/no/such/program"), missing.stderr)
  }

  func testFollowedLogsEndWhenTheInstanceExits() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    let id = try await driver.create(
      try spec("i001", [Host.busybox, "sh", "-c", "for i in 1 2 3; do echo tick $i; \(Host.busybox) sleep 0.2; done"], on: net))
    try await driver.start(id: id)
    var lines: [String] = []
    for try await l in driver.logs(id: id, follow: true, since: nil, timestamps: false) { lines.append(l.text) }
    XCTAssertEqual(lines, ["tick 1", "tick 2", "tick 3"])
    let v11 = try await state(id)
    XCTAssertEqual(v11, .exited)
    let v12 = try await driver.inspect(id: id).exitCode
    XCTAssertEqual(v12, 0)
  }

  func testHealthIsCheckedWhenLookedAt() async throws {
    let net = network()
    _ = try await driver.createNetwork(net)
    // Healthy while the file `ready` exists in its folder.
    let check = HealthcheckSpec(
      test: [Host.busybox, "test", "-f", "ready"], interval: 100_000_000, timeout: 1_000_000_000, retries: 3, startPeriod: 0)
    let s = try spec("i001", sleeper, on: net, health: check)
    let id = try await driver.create(s)
    try await driver.start(id: id)
    let v13 = try await driver.inspect(id: id).health
    XCTAssertEqual(v13, "starting")
    let ready = FixturePaths(root: root).instanceFolder(ip: s.ip) + "/ready"
    _ = FileManager.default.createFile(atPath: ready, contents: nil)
    try await Host.eventually("healthy") { try await self.driver.inspect(id: id).health == "healthy" }
    let v14 = try await driver.containers(fixture: fixture).first?.health
    XCTAssertEqual(v14, "healthy")
    try FileManager.default.removeItem(atPath: ready)
    let t0 = Date()
    try await Host.eventually("unhealthy after 3 failures") { try await self.driver.inspect(id: id).health == "unhealthy" }
    XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(t0), 0.2, "failures are counted once an interval")
    try await driver.restart(id: id, timeout: 1)
    let v15 = try await driver.inspect(id: id).health
    XCTAssertNotEqual(v15, "unhealthy", "a restart starts the verdict over")
  }

  // MARK: - Networks

  func testLoopbackNetworksAreListedAndHaveNoNamespaces() async throws {
    let net = network()
    let nid = try await driver.createNetwork(net)
    let v16 = try await driver.createNetwork(net)
    XCTAssertEqual(v16, nid, "the same network again is the same network")
    let listed = try await driver.networks().first { $0.id == nid }
    XCTAssertEqual(listed?.subnets, [net.subnet])
    XCTAssertEqual(listed?.name, net.name)
    XCTAssertEqual(listed?.labels[Labels.fixture], fixture)
    var other = net
    other.subnet = IPv4Network("127.79.1.0/24")!
    do {
      _ = try await driver.createNetwork(other)
      XCTFail("one network a fixture")
    } catch let e as DriverError { XCTAssertEqual(e.code, .nameInUse) }
    let id = try await driver.create(try spec("i001", sleeper, on: net))
    try await driver.start(id: id)
    do {
      _ = try await driver.networkNamespace(id: id)
      XCTFail("loopback mode has no namespace of its own")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .unsupported)
      XCTAssertTrue(e.message.contains("network.mode: namespaces"), e.message)
    }
    do {
      try await driver.removeNetwork(id: nid)
      XCTFail("a network with instances stays")
    } catch let e as DriverError { XCTAssertEqual(e.code, .conflict) }
    try await driver.remove(id: id, force: true)
    try await driver.removeNetwork(id: nid)
    XCTAssertFalse(FileManager.default.fileExists(atPath: driver.registry.fixtureFolder(fixture)))
    var outside = net
    outside.subnet = IPv4Network("10.0.0.0/24")!
    do {
      _ = try await driver.createNetwork(outside)
      XCTFail("loopback addresses only")
    } catch let e as OrchestratorError { XCTAssertTrue(e.message.contains("127.0.0.0/8"), e.message) }
  }

  func testNamespacesGiveEachInstanceItsOwnNetwork() async throws {
    try Host.requireRoot()
    var net = network(.namespaces)
    let routed = HostSubnets.list().flatMap(\.subnets)
    while routed.contains(where: { $0.overlaps(net.subnet) }) { net = network(.namespaces) }
    let nid = try await driver.createNetwork(net)
    let server = [Host.busybox, "sh", "-c", "exec \(Host.busybox) httpd -f -p $CTHULHU_IP:8080 -h ."]
    let a = try await driver.create(try spec("i001", server, on: net, host: 0))
    let b = try await driver.create(try spec("i002", server, on: net, host: 1))
    try await driver.start(id: a)
    try await driver.start(id: b)
    let ns = try await driver.networkNamespace(id: a)
    XCTAssertEqual(ns, "/run/netns/" + Namespaces.namespace(fixture: fixture, instance: "i001"))
    let pid = try await driver.inspect(id: a).pid
    XCTAssertEqual(
      try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net"),
      try Host.run("/bin/sh", ["-c", "nsenter --net=\(ns!) readlink /proc/self/ns/net"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines),
      "the process runs in its namespace")
    let addr = try await driver.exec(id: a, command: [Host.busybox, "ip", "-o", "-4", "addr", "show", "dev", "eth0"])
    XCTAssertTrue(addr.stdout.contains(" \(net.subnet.host(0))/24 "), addr.stdout)
    let get = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | \(Host.busybox) nc -w 2 \(net.subnet.host(1)) 8080"
    var reply = ExecResult(exitCode: 1, stdout: "", stderr: "")
    try await Host.eventually("i001 reaches i002 over the bridge") {
      reply = try await self.driver.exec(id: a, command: [Host.busybox, "sh", "-c", get])
      return reply.stdout.contains("HTTP/1.")
    }
    XCTAssertFalse(try Host.rules(fixture: fixture).isEmpty, "bridged traffic is accepted in FORWARD")

    try await driver.remove(id: a, force: true)
    try await driver.remove(id: b, force: true)
    try await driver.removeNetwork(id: nid)
    XCTAssertEqual(try Host.namespaces(fixture: fixture), [])
    XCTAssertEqual(try Host.links(fixture: fixture), [])
    XCTAssertEqual(try Host.rules(fixture: fixture), [])
    XCTAssertTrue(Host.processes(fixture: fixture).isEmpty)
  }

  // MARK: - Images

  func testImagesArePseudo() async throws {
    let v17 = try await driver.imageID("")
    XCTAssertEqual(v17, "process")
    let v18 = try await driver.pull("anything")
    XCTAssertEqual(v18, "process")
    do {
      _ = try await driver.build(context: tmp, dockerfile: "Dockerfile", tag: "t", labels: [:])
      XCTFail("no builds")
    } catch let e as DriverError { XCTAssertEqual(e.code, .unsupported) }
  }
}

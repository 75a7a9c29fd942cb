import Foundation
import Manifest
import TestSupport
import XCTest

@testable import Orchestrator

/// The Docker driver against the real engine. Everything made here carries a
/// unique fixture label (`ddt-<random>`) and is removed by that label in
/// tearDown; nothing else on the engine is touched.
///
/// Without an engine: skipped, except under `CI=true`, where it fails.
final class DockerDriverTests: XCTestCase {
  static let image = "cthulhu-test:latest"
  var driver: DockerDriver!
  var fixture = ""
  var tmp = ""
  var images: [String] = []

  override func setUp() async throws {
    fixture = "ddt-" + String(UUID().uuidString.prefix(8)).lowercased()
    tmp = NSTemporaryDirectory() + "/" + fixture
    try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
  }

  override func tearDown() async throws {
    defer { try? FileManager.default.removeItem(atPath: tmp) }
    guard let driver else { return }
    for c in (try? await driver.containers(fixture: fixture)) ?? [] {
      try? await driver.remove(id: c.id, force: true)
    }
    for n in (try? await driver.networks()) ?? [] where n.labels[Labels.fixture] == fixture {
      try? await driver.removeNetwork(id: n.id)
    }
    for i in images { try? await driver.removeImage(i, force: true) }
    try await driver.shutdown()
    self.driver = nil
  }

  /// A driver on an engine that answers and has the test image, or a skip
  /// (a failure under CI=true) saying why not.
  func engine() async throws -> DockerDriver {
    let d = try await Harness.engine()
    driver = d
    return d
  }

  /// A /24 no network on the engine uses, and the fixture's network spec on it.
  func networkSpec(_ d: DockerDriver) async throws -> NetworkSpec {
    let used = Set(try await d.networks().flatMap(\.subnets).map(\.address))
    for _ in 0..<200 {
      let third = UInt32.random(in: 0...255)
      let second = UInt32.random(in: 100...199)
      let base = IPv4Address((10 << 24) | (second << 16) | (third << 8))
      if used.contains(base) { continue }
      return NetworkSpec(
        name: Naming.network(fixture), subnet: IPv4Network(address: base, prefix: 24),
        gateway: IPv4Address(base.value + 1), labels: [Labels.fixture: fixture])
    }
    throw DriverError(.unsupported, "no free test subnet")
  }

  /// Polls `condition` until it holds or `seconds` pass.
  func eventually(
    _ what: String, within seconds: Double = 20, _ condition: () async throws -> Bool
  ) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try await condition() { return }
      try await Task.sleep(for: .milliseconds(50))
    }
    XCTFail("\(what): not within \(seconds) s")
    throw DriverError(.unsupported, "timed out waiting for \(what)")
  }

  func logLines(_ d: DockerDriver, _ id: String) async throws -> [LogLine] {
    var lines: [LogLine] = []
    for try await l in d.logs(id: id, follow: false, since: nil, timestamps: false) { lines.append(l) }
    return lines
  }

  // MARK: - The whole container lifecycle on one container

  func testContainerLifecycle() async throws {
    let d = try await engine()
    let net = try await networkSpec(d)
    let netID = try await d.createNetwork(net)
    XCTAssertFalse(netID.isEmpty)

    let seen = try await d.networks().first { $0.id == netID }
    XCTAssertEqual(seen?.name, net.name)
    XCTAssertEqual(seen?.subnets, [net.subnet])
    XCTAssertEqual(seen?.labels[Labels.fixture], fixture)
    do {
      _ = try await d.createNetwork(net)
      XCTFail("a second network of the same name was created")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .nameInUse, e.message)
    }

    let mount = tmp + "/etc"
    try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
    try "hello from the host\nline two\n".write(toFile: mount + "/greeting.txt", atomically: true, encoding: .utf8)

    let ip = IPv4Address(net.subnet.address.value + 7)
    let labels = [Labels.fixture: fixture, Labels.instance: "i001", Labels.group: "node"]
    let spec = ContainerSpec(
      name: "\(fixture)-i001", image: Self.image,
      command: [
        "/bin/sh", "-c", "trap 'echo got-hup; exit 7' HUP; echo hello-out; echo hello-err >&2; echo \"$ROLE\"; while true; do sleep 0.2; done",
      ],
      env: ["ROLE=server"], hostname: "i001", labels: labels,
      binds: [Bind(host: mount, container: "/opt/app/etc", readOnly: true)],
      network: net.name, ip: ip, aliases: ["i001"], ports: [PortBinding(container: 8080)],
      memory: 64 << 20, nanoCPUs: 500_000_000, stopTimeout: 1)

    let t0 = Date()
    let id = try await d.create(spec)
    let t1 = Date()
    try await d.start(id: id)
    let t2 = Date()
    print("create \(ms(t0, t1)) ms, start \(ms(t1, t2)) ms")
    try await d.start(id: id)  // already started: 304 is fine

    let listed = try await d.containers(fixture: fixture)
    XCTAssertEqual(listed.count, 1)
    let c = try XCTUnwrap(listed.first)
    XCTAssertEqual(c.id, id)
    XCTAssertEqual(c.name, spec.name)
    XCTAssertEqual(c.state, .running)
    XCTAssertEqual(c.ip, ip)
    XCTAssertNil(c.health)
    XCTAssertEqual(c.image, Self.image)
    XCTAssertTrue(c.imageID.hasPrefix("sha256:"), c.imageID)
    XCTAssertEqual(c.labels[Labels.instance], "i001")
    XCTAssertEqual(c.labels[Labels.group], "node")
    XCTAssertEqual(c.ports.count, 1)
    XCTAssertEqual(c.ports.first?.container, 8080)
    XCTAssertGreaterThan(c.ports.first?.host ?? 0, 0)
    let other = try await d.containers(fixture: fixture + "-other")
    XCTAssertEqual(other, [])

    let details = try await d.inspect(id: id)
    XCTAssertEqual(details.state, .running)
    XCTAssertGreaterThan(details.pid, 0)
    XCTAssertEqual(details.ip, ip)
    XCTAssertEqual(details.labels[Labels.fixture], fixture)
    XCTAssertEqual(details.ports, c.ports)
    XCTAssertNotNil(details.startedAt)
    XCTAssertLessThan(abs(details.startedAt!.timeIntervalSinceNow), 120)

    let cat = try await d.exec(id: id, command: ["cat", "/opt/app/etc/greeting.txt"])
    XCTAssertEqual(cat.exitCode, 0)
    XCTAssertEqual(cat.stdout, "hello from the host\nline two\n")
    XCTAssertEqual(cat.stderr, "")
    let three = try await d.exec(id: id, command: ["sh", "-c", "echo out; echo err >&2; exit 3"])
    XCTAssertEqual(three.exitCode, 3)
    XCTAssertEqual(three.stdout, "out\n")
    XCTAssertEqual(three.stderr, "err\n")
    let ro = try await d.exec(id: id, command: ["sh", "-c", "echo x > /opt/app/etc/new"])
    XCTAssertNotEqual(ro.exitCode, 0, "the bind mount is read-only")
    let mem = try await d.exec(
      id: id, command: ["sh", "-c", "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"])
    XCTAssertEqual(mem.stdout.trimmingCharacters(in: .whitespacesAndNewlines), String(64 << 20))
    let hostname = try await d.exec(id: id, command: ["hostname"])
    XCTAssertEqual(hostname.stdout, "i001\n")

    var lines: [LogLine] = []
    try await eventually("the container's three lines in its logs") {
      lines = try await logLines(d, id)
      return lines.count >= 3
    }
    XCTAssertEqual(lines.filter { $0.stream == .stdout }.map(\.text), ["hello-out", "server"])
    XCTAssertEqual(lines.filter { $0.stream == .stderr }.map(\.text), ["hello-err"])
    var stamped: [LogLine] = []
    for try await l in d.logs(id: id, follow: false, since: nil, timestamps: true) { stamped.append(l) }
    // stdout and stderr are separate pipes: their relative order is not kept.
    let out = try XCTUnwrap(stamped.first { $0.text.hasSuffix(" hello-out") }, "\(stamped)")
    XCTAssertEqual(out.stream, .stdout)
    XCTAssertTrue(out.text.hasPrefix("20"), out.text)
    XCTAssertEqual(stamped.count, 3)

    do {
      try await d.removeNetwork(id: netID)
      XCTFail("removed a network with a running container attached")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .conflict, e.message)
    }

    var since: [LogLine] = []
    for try await l in d.logs(id: id, follow: false, since: Date(), timestamps: false) { since.append(l) }
    XCTAssertEqual(since, [], "nothing printed since now")

    try await d.pause(id: id)
    var paused = try await d.inspect(id: id)
    XCTAssertEqual(paused.state, .paused)
    try await d.unpause(id: id)
    paused = try await d.inspect(id: id)
    XCTAssertEqual(paused.state, .running)

    // A follower sees what is printed after it started, and ends when the container stops.
    let follow = Task { () -> [String] in
      var got: [String] = []
      for try await l in d.logs(id: id, follow: true, since: nil, timestamps: false) { got.append(l.text) }
      return got
    }

    try await d.kill(id: id, signal: "HUP")
    try await eventually("exit after SIGHUP") { try await d.inspect(id: id).state == .exited }
    let afterKill = try await d.inspect(id: id)
    XCTAssertEqual(afterKill.exitCode, 7)
    XCTAssertEqual(afterKill.pid, 0)
    let followed = try await follow.value
    XCTAssertEqual(followed.last, "got-hup")

    try await d.restart(id: id, timeout: 1)
    let got1 = try await d.inspect(id: id).state
    XCTAssertEqual(got1, .running)
    let t3 = Date()
    try await d.stop(id: id, timeout: 1)  // sh as PID 1 ignores SIGTERM: killed after 1 s
    print("stop (TERM ignored, t=1) \(ms(t3, Date())) ms")
    let stopped = try await d.inspect(id: id)
    XCTAssertEqual(stopped.state, .exited)
    try await d.stop(id: id, timeout: 1)  // already stopped: 304 is fine
    let got2 = try await d.containers(fixture: fixture).first?.state
    XCTAssertEqual(got2, .exited)

    try await d.remove(id: id, force: true)
    let got3 = try await d.containers(fixture: fixture)
    XCTAssertEqual(got3, [])
    do {
      try await d.remove(id: id, force: true)
      XCTFail("removed twice")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .notFound, e.message)
    }
    do {
      _ = try await d.inspect(id: id)
      XCTFail("inspected a removed container")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .notFound, e.message)
    }
    try await d.removeNetwork(id: netID)
    let got4 = try await d.networks().first { $0.id == netID }
    XCTAssertNil(got4)
  }

  func testNameConflictAndHealth() async throws {
    let d = try await engine()
    let net = try await networkSpec(d)
    _ = try await d.createNetwork(net)
    let spec = ContainerSpec(
      name: "\(fixture)-h", image: Self.image, command: ["sh", "-c", "touch /tmp/ready; exec sleep 600"],
      hostname: "h", labels: [Labels.fixture: fixture], network: net.name,
      ip: IPv4Address(net.subnet.address.value + 2),
      healthcheck: HealthcheckSpec(test: ["test", "-f", "/tmp/ready"], interval: 200_000_000, timeout: 1_000_000_000, retries: 3, startPeriod: 0))
    let id = try await d.create(spec)
    do {
      _ = try await d.create(spec)
      XCTFail("two containers of one name")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .nameInUse, e.message)
    }
    try await d.start(id: id)
    try await eventually("healthy") {
      try await d.containers(fixture: fixture).first?.health == "healthy"
    }
    let got5 = try await d.inspect(id: id).health
    XCTAssertEqual(got5, "healthy")
    try await d.remove(id: id, force: true)
  }

  func testConcurrentCalls() async throws {
    let d = try await engine()
    let t0 = Date()
    try await withThrowingTaskGroup(of: Void.self) { group in
      for i in 0..<20 {
        group.addTask {
          if i.isMultiple(of: 2) {
            _ = try await d.networks()
          } else {
            let id = try await d.imageID(Self.image)
            XCTAssertNotNil(id)
          }
        }
      }
      try await group.waitForAll()
    }
    print("20 concurrent calls \(ms(t0, Date())) ms")
  }

  // MARK: - Images

  func testBuildFromContext() async throws {
    let d = try await engine()
    let ctx = tmp + "/ctx"
    try FileManager.default.createDirectory(atPath: ctx + "/sub", withIntermediateDirectories: true)
    try "FROM \(Self.image)\nCOPY hello.txt /hello.txt\nCOPY sub/ /sub/\nCMD [\"cat\", \"/hello.txt\", \"/sub/x.sh\"]\n"
      .write(toFile: ctx + "/Dockerfile.test", atomically: true, encoding: .utf8)
    try "built by cthulhu\n".write(toFile: ctx + "/hello.txt", atomically: true, encoding: .utf8)
    try "echo x\n".write(toFile: ctx + "/sub/x.sh", atomically: true, encoding: .utf8)
    let tag = "\(fixture):latest"
    images.append(tag)
    let t0 = Date()
    let id = try await d.build(context: ctx, dockerfile: "Dockerfile.test", tag: tag, labels: [Labels.fixture: fixture])
    print("build \(ms(t0, Date())) ms")
    XCTAssertTrue(id.hasPrefix("sha256:"), id)
    let looked = try await d.imageID(tag)
    XCTAssertEqual(looked, id)

    let net = try await networkSpec(d)
    _ = try await d.createNetwork(net)
    let cid = try await d.create(
      ContainerSpec(
        name: "\(fixture)-b", image: tag, hostname: "b", labels: [Labels.fixture: fixture], network: net.name,
        ip: IPv4Address(net.subnet.address.value + 3)))
    try await d.start(id: cid)
    try await eventually("the built image's command ran") { try await d.inspect(id: cid).state == .exited }
    let out = try await logLines(d, cid).map(\.text)
    XCTAssertEqual(out, ["built by cthulhu", "echo x"])
  }

  func testBuildFailureIsClear() async throws {
    let d = try await engine()
    let ctx = tmp + "/bad"
    try FileManager.default.createDirectory(atPath: ctx, withIntermediateDirectories: true)
    try "FROM \(Self.image)\nRUN echo about to fail; exit 5\n".write(toFile: ctx + "/Dockerfile", atomically: true, encoding: .utf8)
    let tag = "\(fixture)-bad:latest"
    images.append(tag)
    do {
      _ = try await d.build(context: ctx, dockerfile: "Dockerfile", tag: tag, labels: [:])
      XCTFail("a failing RUN built")
    } catch let e as DriverError {
      print(e.message)
      XCTAssertEqual(e.code, .buildFailed)
      XCTAssertTrue(e.message.contains("returned a non-zero code: 5"), e.message)
      XCTAssertTrue(e.message.contains("about to fail"), e.message)
    }
    do {
      _ = try await d.build(context: ctx, dockerfile: "Missing.Dockerfile", tag: tag, labels: [:])
      XCTFail("built without a Dockerfile")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .buildFailed, e.message)
      XCTAssertFalse(e.message.contains("NIO"), e.message)
    }
  }

  func testAbsentImage() async throws {
    let d = try await engine()
    let absent = "\(fixture)-absent:1.0"
    let id = try await d.imageID(absent)
    XCTAssertNil(id)

    let t0 = Date()
    do {
      _ = try await d.pull(absent)
      XCTFail("pulled an image no registry has")
    } catch let e as DriverError {
      print(e.message)
      XCTAssertEqual(e.code, .imageUnavailable)
      XCTAssertTrue(e.message.hasPrefix("image '\(absent)' is not on this machine and could not be pulled: "), e.message)
      XCTAssertTrue(e.message.hasSuffix("; build it locally or use build:"), e.message)
    }
    let took = Date().timeIntervalSince(t0)
    print("failed pull \(Int(took * 1000)) ms")
    XCTAssertLessThan(took, 30, "a pull with no registry must fail quickly")

    do {
      _ = try await d.create(
        ContainerSpec(name: "\(fixture)-x", image: absent, hostname: "x", network: "none", ip: IPv4Address(0)))
      XCTFail("created a container of an absent image")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .imageUnavailable, e.message)
    }
  }

  // MARK: - No engine

  func testEngineUnavailableIsOneSentence() async throws {
    let missing = tmp + "/no-such.sock"
    let d = try DockerDriver(environment: ["DOCKER_HOST": "unix://" + missing])
    defer { Task { try? await d.shutdown() } }
    do {
      _ = try await d.networks()
      XCTFail("a missing socket answered")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineUnavailable)
      XCTAssertEqual(e.message, "cannot reach the Docker engine at unix://\(missing): is dockerd running? (no such socket)")
    }
    do {
      _ = try await d.containers(fixture: "x")
      XCTFail("a missing socket answered")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineUnavailable)
    }
    // The logs stream fails the same way instead of hanging.
    do {
      for try await _ in d.logs(id: "x", follow: true, since: nil, timestamps: false) {}
      XCTFail("logs from a missing socket")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineUnavailable)
    }
    try await d.shutdown()
  }

  func testEngineRefusingConnections() async throws {
    // A socket file nobody listens on: connect gets ECONNREFUSED.
    let path = tmp + "/dead.sock"
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    XCTAssertGreaterThanOrEqual(fd, 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
      let bytes = Array(path.utf8.prefix(raw.count - 1))
      raw.copyBytes(from: bytes)
    }
    let rc = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    XCTAssertEqual(rc, 0)
    close(fd)
    let d = try DockerDriver(environment: ["DOCKER_HOST": "unix://" + path])
    do {
      _ = try await d.imageID("x")
      XCTFail("a dead socket answered")
    } catch let e as DriverError {
      XCTAssertEqual(e.code, .engineUnavailable)
      XCTAssertEqual(e.message, "cannot reach the Docker engine at unix://\(path): is dockerd running? (connection refused)")
    }
    try await d.shutdown()
  }

  func testTCPHostIsRejected() throws {
    XCTAssertThrowsError(try DockerDriver(environment: ["DOCKER_HOST": "tcp://127.0.0.1:2375"])) { error in
      XCTAssertEqual((error as? DriverError)?.code, .unsupported)
      XCTAssertTrue("\(error)".contains("unix socket only"), "\(error)")
    }
  }
}

/// The driver's pieces that need no engine.
final class DockerWireTests: XCTestCase {
  func testTarIsReadableByTar() throws {
    let dir = NSTemporaryDirectory() + "/ddt-tar-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let deep = dir + "/" + String(repeating: "d", count: 60) + "/" + String(repeating: "e", count: 60)
    try FileManager.default.createDirectory(atPath: deep, withIntermediateDirectories: true)
    try "a\n".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
    try Data(repeating: 7, count: 1000).write(to: URL(fileURLWithPath: deep + "/big.bin"))
    try "#!/bin/sh\n".write(toFile: dir + "/run.sh", atomically: true, encoding: .utf8)
    chmod(dir + "/run.sh", 0o755)
    let bytes = try Tar.archive(folder: dir)
    XCTAssertEqual(bytes.count % 512, 0)
    let out = dir + ".tar"
    defer { try? FileManager.default.removeItem(atPath: out) }
    try Data(bytes).write(to: URL(fileURLWithPath: out))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["tar", "-tvf", out]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, listing)
    XCTAssertTrue(listing.contains("-rwxr-xr-x"), listing)
    XCTAssertTrue(listing.contains(String(repeating: "e", count: 60) + "/big.bin"), listing)
    XCTAssertTrue(listing.contains(" 1000 "), listing)
  }

  func testDemuxerJoinsSplitFrames() {
    var d = StreamDemuxer()
    let frame1: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 3] + Array("ab\n".utf8)
    let frame2: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 2] + Array("e\n".utf8)
    let all = frame1 + frame2
    var got: [(LogLine.Stream, String)] = []
    for i in stride(from: 0, to: all.count, by: 3) {
      for f in d.feed(Array(all[i..<min(i + 3, all.count)])) { got.append((f.stream, String(decoding: f.payload, as: UTF8.self))) }
    }
    XCTAssertEqual(got.map(\.0), [.stdout, .stderr])
    XCTAssertEqual(got.map(\.1), ["ab\n", "e\n"])
  }

  func testProgressLinesFindTheErrorWhateverTheChunking() {
    let stream = Array(
      """
      {"status":"Pulling from library/x"}
      {"stream":"Step 1/2"}\r
      not json
      {"aux":{"ID":"sha256:abc"}}
      {"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}
      """.utf8)
    for size in [1, 7, stream.count] {
      var lines = ProgressLines()
      var got: [API.Progress] = []
      for i in stride(from: 0, to: stream.count, by: size) { got += lines.feed(Array(stream[i..<min(i + size, stream.count)])) }
      got += lines.finish()
      XCTAssertEqual(got.compactMap(\.stream), ["Step 1/2"])
      XCTAssertEqual(got.compactMap(\.aux?.ID), ["sha256:abc"])
      XCTAssertEqual(got.compactMap(\.error), ["manifest unknown"])
    }
  }

  func testVersionNegotiation() {
    XCTAssertEqual(DockerClient.negotiate("1.43"), "1.41")
    XCTAssertEqual(DockerClient.negotiate("1.41"), "1.41")
    XCTAssertEqual(DockerClient.negotiate("1.40"), "1.40")
  }
}

func ms(_ a: Date, _ b: Date) -> Int { Int(b.timeIntervalSince(a) * 1000) }

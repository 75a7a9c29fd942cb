import Foundation
import Manifest
import XCTest

/// Every key of the schema, decoded into typed values.
final class ManifestDecodingTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-decode-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: dir + "/demo", withIntermediateDirectories: true)
    try "x".write(toFile: dir + "/templates/kv.json", atomically: true, encoding: .utf8)
    try "x".write(toFile: dir + "/templates/run.sh", atomically: true, encoding: .utf8)
    try "FROM scratch\n".write(toFile: dir + "/demo/Dockerfile.kv", atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func testEveryKey() throws {
    let text = """
      fixture: kv
      driver: docker
      root: out/fixture
      network: { subnet: 172.28.5.0/24, mode: loopback }
      vars: { port: 8080, name: "kv", ratio: 0.5, on: true, list: [1, two], nested: { a: null } }
      defaults:
        memory: 32m
        env: { LOG: info, ROLE: none }
      groups:
        server:
          build: { context: demo, dockerfile: Dockerfile.kv }
          count: 3
          command: ["/bin/kv", "--config", "/opt/app/etc/config.json"]
          env: { ROLE: server, DEBUG: no, MODE: 0644 }
          mounts: { etc: /opt/app/etc, var: /opt/app/var, data: /data }
          templates:
            - { source: templates/kv.json, target: etc/config.json }
          files:
            - { source: templates/run.sh, target: data/bin/run.sh, mode: "0755" }
          ports: ["30000:8080", 9090, "5353/udp"]
          healthcheck: { command: [sh, -c, "true"], interval: 500ms, timeout: 2s, retries: 20, start_period: 1m30s }
          cpus: 0.5
          stop_timeout: 2s
          on_change: signal:sighup
        client:
          image: busybox:1
          command: sleep 1000
          depends_on: [server]
          on_change: none
          memory: 1g
      """
    let m = try ManifestLoader.load(text: text, path: dir + "/cthulhu.yaml")
    XCTAssertEqual(m.fixture, "kv")
    XCTAssertEqual(m.driver, .docker)
    XCTAssertEqual(m.root, dir + "/out/fixture")
    XCTAssertEqual(m.network.subnet, IPv4Network("172.28.5.0/24"))
    XCTAssertEqual(m.network.mode, .loopback)
    XCTAssertEqual(m.vars.map(\.key), ["port", "name", "ratio", "on", "list", "nested"])
    XCTAssertEqual(m.vars.map(\.value), [.int(8080), .string("kv"), .double(0.5), .bool(true), .list([.int(1), .string("two")]), .map(["a": .null], order: ["a"])])
    XCTAssertEqual(m.groups.map(\.name), ["server", "client"])
    let s = m.groups[0]
    XCTAssertEqual(s.source, .build(context: dir + "/demo", dockerfile: "Dockerfile.kv"))
    XCTAssertEqual(s.count, 3)
    XCTAssertEqual(s.command, ["/bin/kv", "--config", "/opt/app/etc/config.json"])
    // defaults merged under the group key by key; YAML 1.1 look-alikes stay as written.
    XCTAssertEqual(s.env.map { "\($0.key)=\($0.value)" }, ["LOG=info", "ROLE=server", "DEBUG=no", "MODE=0644"])
    XCTAssertEqual(s.mounts, [Mount(name: "etc", path: "/opt/app/etc"), Mount(name: "var", path: "/opt/app/var"), Mount(name: "data", path: "/data")])
    XCTAssertEqual(s.templates.map(\.target), ["etc/config.json"])
    XCTAssertEqual(s.templates[0].source, dir + "/templates/kv.json")
    XCTAssertEqual(s.templates[0].mode, 0o644)
    XCTAssertEqual(s.files.map(\.target), ["data/bin/run.sh"])
    XCTAssertEqual(s.files[0].mode, 0o755)
    XCTAssertEqual(s.ports, [PortSpec(hostStart: 30000, container: 8080), PortSpec(container: 9090), PortSpec(container: 5353, proto: .udp)])
    XCTAssertEqual(s.healthcheck, Healthcheck(command: ["sh", "-c", "true"], interval: .milliseconds(500), timeout: .seconds(2), retries: 20, startPeriod: .seconds(90)))
    XCTAssertEqual(s.memory, 32 << 20)
    XCTAssertEqual(s.cpus, 0.5)
    XCTAssertEqual(s.stopTimeout, .seconds(2))
    XCTAssertEqual(s.onChange, .signal("HUP"))
    let c = m.groups[1]
    XCTAssertEqual(c.source, .image("busybox:1"))
    XCTAssertEqual(c.count, 1)
    XCTAssertEqual(c.command, ["/bin/sh", "-c", "sleep 1000"])
    XCTAssertEqual(c.mounts, Mount.defaults)
    XCTAssertEqual(c.dependsOn, ["server"])
    XCTAssertEqual(c.onChange, .none)
    XCTAssertEqual(c.memory, 1 << 30)
    XCTAssertEqual(c.env.map { "\($0.key)=\($0.value)" }, ["LOG=info", "ROLE=none"])
  }

  func testDefaultsAndRootBesideManifest() throws {
    let m = try ManifestLoader.load(text: "fixture: f\ngroups: {a: {image: x}}\n", path: dir + "/sub/cthulhu.yaml")
    XCTAssertEqual(m.root, dir + "/sub/cthulhu-fixture")
    XCTAssertEqual(m.driver, .docker)
    XCTAssertNil(m.network.subnet)
    XCTAssertEqual(m.groups[0].onChange, .restart)
    XCTAssertNil(m.groups[0].command)
  }

  func testAnchorsAndAliases() throws {
    let text = """
      fixture: f
      x-common: &common { image: "app:1", env: { A: "1" } }
      groups:
        a: *common
        b: *common
      """
    // 'x-common' is not a manifest key: the error is reported, aliases still resolved.
    XCTAssertThrowsError(try ManifestLoader.load(text: text, path: dir + "/m.yaml")) { e in
      XCTAssertEqual((e as! ManifestErrors).diagnostics.map(\.message), ["unknown key 'x-common' in the manifest"])
    }
    let ok = try ManifestLoader.load(
      text: "fixture: f\nvars: {common: &c {image: \"app:1\"}}\ngroups:\n  a: *c\n  b: *c\n", path: dir + "/m.yaml")
    XCTAssertEqual(ok.groups.map(\.source), [.image("app:1"), .image("app:1")])
  }

  func testYAML11LookAlikesStayStrings() throws {
    let m = try ManifestLoader.load(
      text: "fixture: f\nvars: {a: no}\ngroups:\n  on:\n    image: \"1e3\"\n    command: [no, on, 0644, 1e3, yes]\n    env: {X: off}\n",
      path: dir + "/m.yaml")
    XCTAssertEqual(m.groups[0].name, "on")
    XCTAssertEqual(m.groups[0].source, .image("1e3"))
    XCTAssertEqual(m.groups[0].command, ["no", "on", "0644", "1e3", "yes"])
    XCTAssertEqual(m.groups[0].env.first?.value, "off")
    XCTAssertEqual(m.vars.first?.value, .string("no"))
  }

  func testUnits() {
    XCTAssertEqual(Units.duration("500ms"), .milliseconds(500))
    XCTAssertEqual(Units.duration("1m30s"), .seconds(90))
    XCTAssertEqual(Units.duration("1h"), .seconds(3600))
    XCTAssertNil(Units.duration("5"))
    XCTAssertEqual(Units.size("16m"), 16 << 20)
    XCTAssertEqual(Units.size("512k"), 512 << 10)
    XCTAssertEqual(Units.size("1G"), 1 << 30)
    XCTAssertEqual(Units.size("1024"), 1024)
    XCTAssertNil(Units.size("x"))
  }

  func testThousandInstances() throws {
    var text = "fixture: big\nnetwork: {subnet: 10.9.0.0/22}\ngroups:\n"
    for i in 0..<100 { text += "  g\(i): {image: x, count: 10}\n" }
    let m = try ManifestLoader.load(text: text, path: dir + "/m.yaml")
    XCTAssertEqual(m.groups.reduce(0) { $0 + $1.count }, 1000)
  }

  func testExampleManifestsValidate() throws {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder = here.appendingPathComponent("manifests").path
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }
    XCTAssertGreaterThanOrEqual(files.count, 2)
    for f in files {
      XCTAssertNoThrow(try ManifestLoader.load(path: folder + "/" + f), f)
    }
  }
}

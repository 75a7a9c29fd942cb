import Foundation
import XCTest

@testable import Manifest

/// Every key of the schema, decoded into the typed model.
final class DecodingTests: XCTestCase {
  func testEveryKeyIsDecoded() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: all-keys
      driver: docker
      root: out/fixture
      network:
        subnet: 172.28.5.0/24
      vars:
        port: 8080
        ratio: 0.5
        debug: true
        name: "x"
        nothing: ~
        list: [1, two]
        nested: { b: 1, a: 2 }
      defaults:
        stop_timeout: 3s
        env: { LOG: info, MODE: base }
        memory: 64m
      groups:
        server:
          image: app:1
          count: 3
          command: ["/bin/app", "--port", "8080"]
          env: { MODE: server, COUNT: 10, FLAG: yes }
          mounts: { etc: /etc/app, data: { path: /data, faults: true }, logs: { path: /logs, faults: false } }
          templates:
            - { source: templates/config.json, target: etc/config.json }
          files:
            - { source: files/run.sh, target: data/bin/run.sh, mode: "0755" }
            - { source: files/run.sh, target: data/run2.sh, mode: 700 }
            - { source: files/run.sh, target: data/run3.sh, mode: 0640 }
          ports: [8080, "30000:8080", "9090/udp", "31000:53/udp"]
          healthcheck:
            command: curl -f http://localhost:8080/
            interval: 500ms
            timeout: 2s
            retries: 5
            start_period: 1m30s
          memory: 1g
          cpus: 1.5
          stop_timeout: 10s
          on_change: signal:sighup
        client:
          build: { context: ctx, dockerfile: Other.dockerfile }
          count: 0
          command: echo hi
          depends_on: [server]
          on_change: none
        worker:
          build: ctx
          memory: 512k
          on_change: restart
      """, in: dir)
    XCTAssertEqual(m.fixture, "all-keys")
    XCTAssertEqual(m.driver, .docker)
    XCTAssertEqual(m.path, dir.manifestPath)
    XCTAssertEqual(m.root, dir.path + "/out/fixture")
    XCTAssertEqual(m.network.subnet, IPv4Network("172.28.5.0/24"))
    XCTAssertEqual(m.network.mode, .loopback)
    XCTAssertEqual(m.vars.map(\.key), ["port", "ratio", "debug", "name", "nothing", "list", "nested"])
    XCTAssertEqual(
      m.vars.map(\.value),
      [
        .int(8080), .double(0.5), .bool(true), .string("x"), .null, .list([.int(1), .string("two")]),
        .map(["a": .int(2), "b": .int(1)], order: ["b", "a"]),
      ])
    XCTAssertEqual(m.groups.map(\.name), ["server", "client", "worker"])

    let s = m.groups[0]
    XCTAssertEqual(s.source, .image("app:1"))
    XCTAssertEqual(s.count, 3)
    XCTAssertEqual(s.command, ["/bin/app", "--port", "8080"])
    XCTAssertEqual(s.env.map(\.key), ["LOG", "MODE", "COUNT", "FLAG"])
    XCTAssertEqual(s.env.map(\.value), ["info", "server", "10", "yes"])
    XCTAssertEqual(
      s.mounts,
      [Mount(name: "etc", path: "/etc/app"), Mount(name: "data", path: "/data", faults: true), Mount(name: "logs", path: "/logs")])
    XCTAssertEqual(s.templates.map(\.source), [dir.path + "/templates/config.json"])
    XCTAssertEqual(s.templates.map(\.target), ["etc/config.json"])
    XCTAssertEqual(s.templates.map(\.mode), [0o644])
    XCTAssertEqual(s.files.map(\.mount), ["data", "data", "data"])
    XCTAssertEqual(s.files.map(\.path), ["bin/run.sh", "run2.sh", "run3.sh"])
    XCTAssertEqual(s.files.map(\.mode), [0o755, 0o700, 0o640])
    XCTAssertEqual(
      s.ports,
      [
        PortSpec(container: 8080), PortSpec(hostStart: 30000, container: 8080),
        PortSpec(container: 9090, proto: .udp), PortSpec(hostStart: 31000, container: 53, proto: .udp),
      ])
    XCTAssertEqual(
      s.healthcheck,
      Healthcheck(
        command: ["/bin/sh", "-c", "curl -f http://localhost:8080/"], interval: .milliseconds(500),
        timeout: .seconds(2), retries: 5, startPeriod: .seconds(90)))
    XCTAssertEqual(s.memory, 1 << 30)
    XCTAssertEqual(s.cpus, 1.5)
    XCTAssertEqual(s.stopTimeout, .seconds(10))
    XCTAssertEqual(s.onChange, .signal("HUP"))
    XCTAssertEqual(s.dependsOn, [])

    let c = m.groups[1]
    XCTAssertEqual(c.source, .build(context: dir.path + "/ctx", dockerfile: "Other.dockerfile"))
    XCTAssertEqual(c.count, 0)
    XCTAssertEqual(c.command, ["/bin/sh", "-c", "echo hi"])
    XCTAssertEqual(c.dependsOn, ["server"])
    XCTAssertEqual(c.onChange, OnChange.none)
    XCTAssertEqual(c.memory, 64 << 20, "from defaults")
    XCTAssertEqual(c.stopTimeout, .seconds(3), "from defaults")
    XCTAssertEqual(c.env.map(\.key), ["LOG", "MODE"])
    XCTAssertEqual(c.mounts, Mount.defaults)

    let w = m.groups[2]
    XCTAssertEqual(w.source, .build(context: dir.path + "/ctx", dockerfile: "Dockerfile"))
    XCTAssertEqual(w.count, 1)
    XCTAssertNil(w.command)
    XCTAssertEqual(w.memory, 512 << 10)
    XCTAssertEqual(w.onChange, .restart)
  }

  func testDefaultsOfAMinimalManifest() throws {
    let dir = try TempDir()
    let m = try load("fixture: min\ngroups:\n  node:\n    image: busybox\n", in: dir)
    XCTAssertEqual(m.driver, .docker)
    XCTAssertEqual(m.root, dir.path + "/cthulhu-fixture")
    XCTAssertEqual(m.network, NetworkSettings())
    XCTAssertTrue(m.vars.isEmpty)
    let g = try XCTUnwrap(m.groups.first)
    XCTAssertEqual(g.count, 1)
    XCTAssertEqual(g.mounts, Mount.defaults)
    XCTAssertEqual(g.onChange, .restart)
    XCTAssertNil(g.healthcheck)
    XCTAssertEqual(g.location.line, 3)
    XCTAssertEqual(g.location.column, 3)
  }

  func testProcessDriverAndNamespaces() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: procs
      driver: process
      network: { subnet: 10.9.0.0/16, mode: namespaces }
      groups:
        node: { count: 2, command: "sleep 100" }
      """, in: dir)
    XCTAssertEqual(m.driver, .process)
    XCTAssertEqual(m.network.mode, .namespaces)
    XCTAssertEqual(m.groups[0].command, ["/bin/sh", "-c", "sleep 100"])
  }

  func testFaultPathDefaultsToAutoAndTakesHelper() throws {
    let dir = try TempDir()
    XCTAssertEqual(try load("fixture: f\ngroups: {a: {image: x}}\n", in: dir).faults.via, .auto)
    let m = try load("fixture: f\nfaults: { via: helper }\ngroups: {a: {image: x}}\n", in: dir)
    XCTAssertEqual(m.faults.via, .helper)
    XCTAssertEqual(try load("fixture: f\ndriver: process\nfaults: { via: host }\ngroups: {a: {command: x}}\n", in: dir).faults.via, .host)
  }

  func testProcessProgramsNextToTheManifestAreFoundFromAnywhere() throws {
    let dir = try TempDir()
    let m = try load(
      """
      fixture: procs
      driver: process
      groups:
        a: { command: ["../bin/app", "--config", "etc/app.json"], healthcheck: { command: ["./probe", "x"] } }
        b: { command: ["app", "./not-a-program"] }
        c: { command: ["/usr/bin/app"] }
      """, in: dir)
    let parent = (dir.path as NSString).deletingLastPathComponent
    XCTAssertEqual(m.groups[0].command, [parent + "/bin/app", "--config", "etc/app.json"], "only the program, not its arguments")
    XCTAssertEqual(m.groups[0].healthcheck?.command, [dir.path + "/probe", "x"])
    XCTAssertEqual(m.groups[1].command, ["app", "./not-a-program"], "a bare name is looked up on PATH")
    XCTAssertEqual(m.groups[2].command, ["/usr/bin/app"])
    // The docker driver's commands run inside the image: never rewritten.
    let d = try load("fixture: d\ngroups:\n  a: { image: x, command: [\"./run\"] }\n", in: dir)
    XCTAssertEqual(d.groups[0].command, ["./run"])
  }

  func testUnits() {
    XCTAssertEqual(Units.duration("500ms"), .milliseconds(500))
    XCTAssertEqual(Units.duration("2s"), .seconds(2))
    XCTAssertEqual(Units.duration("1m"), .seconds(60))
    XCTAssertEqual(Units.duration("1h"), .seconds(3600))
    XCTAssertEqual(Units.duration("1m30s"), .seconds(90))
    XCTAssertNil(Units.duration("10"))
    XCTAssertNil(Units.duration(""))
    XCTAssertNil(Units.duration("5 s"))
    XCTAssertEqual(Units.size("16m"), 16 << 20)
    XCTAssertEqual(Units.size("1G"), 1 << 30)
    XCTAssertEqual(Units.size("512k"), 512 << 10)
    XCTAssertEqual(Units.size("1024"), 1024)
    XCTAssertNil(Units.size("lots"))
  }
}

import Foundation
import Manifest
import XCTest

/// Each malformed manifest gets exactly the expected message at the expected line:column.
final class MalformedManifestTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-manifest-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try "x".write(toFile: dir + "/templates/c.json", atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  /// The diagnostics of `text` as `line:col: message` strings.
  func errors(_ text: String) -> [String] {
    do {
      _ = try ManifestLoader.load(text: text, path: dir + "/m.yaml")
      return []
    } catch {
      return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
    }
  }

  let cases: [(String, String, String)] = [
    ("missing fixture", "groups:\n  a: {image: x}\n", "1:1: missing required key 'fixture' (the fixture's name)"),
    ("missing groups", "fixture: f\n", "1:1: missing required key 'groups' (at least one group of instances)"),
    (
      "bad fixture name", "fixture: Bad_Name\ngroups: {a: {image: x}}\n",
      "1:10: fixture name 'Bad_Name' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"
    ),
    (
      "long fixture name", "fixture: \(String(repeating: "a", count: 41))\ngroups: {a: {image: x}}\n",
      "1:10: fixture name '\(String(repeating: "a", count: 41))' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"
    ),
    ("fixture is a list", "fixture: [a]\ngroups: {a: {image: x}}\n", "1:10: 'fixture' must be a string, not a list"),
    ("unknown top key", "fixture: f\ngrups: {}\ngroups: {a: {image: x}}\n", "2:1: unknown key 'grups' in the manifest; did you mean 'groups'?"),
    (
      "unknown group key", "fixture: f\ngroups:\n  a:\n    image: x\n    comand: [a]\n",
      "5:5: unknown key 'comand' in group 'a'; did you mean 'command'?"
    ),
    ("bad driver", "fixture: f\ndriver: podman\ngroups: {a: {image: x}}\n", "2:9: unknown driver 'podman'; use 'docker', 'swarm' or 'process'"),
    (
      "bad subnet", "fixture: f\nnetwork: {subnet: 10.0.0.0/33}\ngroups: {a: {image: x}}\n",
      "2:19: '10.0.0.0/33' is not an IPv4 network in CIDR form such as 172.28.5.0/24"
    ),
    (
      "host bits in subnet", "fixture: f\nnetwork: {subnet: 10.0.0.1/24}\ngroups: {a: {image: x}}\n",
      "2:19: '10.0.0.1/24' is not an IPv4 network in CIDR form such as 172.28.5.0/24"
    ),
    (
      "bad network mode", "fixture: f\nnetwork: {mode: bridge}\ngroups: {a: {image: x}}\n",
      "2:17: unknown network mode 'bridge'; use 'loopback' or 'namespaces'"
    ),
    (
      "unknown network key", "fixture: f\nnetwork: {subnett: 10.0.0.0/24}\ngroups: {a: {image: x}}\n",
      "2:11: unknown key 'subnett' in 'network'; did you mean 'subnet'?"
    ),
    (
      "subnet too small", "fixture: f\nnetwork: {subnet: 10.0.0.0/30}\ngroups: {a: {image: x, count: 3}}\n",
      "2:19: subnet 10.0.0.0/30 holds 1 instances (from .2; .1 is the gateway) but the groups ask for 3"
    ),
    ("groups empty", "fixture: f\ngroups: {}\n", "2:9: 'groups' is empty; declare at least one group"),
    ("groups a list", "fixture: f\ngroups: [a]\n", "2:9: 'groups' must be a mapping, not a list"),
    (
      "bad group name", "fixture: f\ngroups: {Web: {image: x}}\n", "2:10: group name 'Web' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"
    ),
    ("no image nor build", "fixture: f\ngroups:\n  a: {count: 1}\n", "3:3: group 'a' needs 'image' or 'build'"),
    ("image and build", "fixture: f\ngroups:\n  a: {image: x, build: ctx}\n", "3:17: group 'a' has both 'image' and 'build'; keep one"),
    (
      "build context missing", "fixture: f\ngroups:\n  a: {build: nope}\n",
      "3:14: build context 'nope' of group 'a' is not a folder (looked for $DIR/nope)"
    ),
    ("build without Dockerfile", "fixture: f\ngroups:\n  a: {build: {context: ctx}}\n", "3:14: build context 'ctx' of group 'a' has no Dockerfile"),
    ("count a word", "fixture: f\ngroups:\n  a: {image: x, count: three}\n", "3:24: 'count' of group 'a' must be a whole number, not 'three'"),
    ("count negative", "fixture: f\ngroups:\n  a: {image: x, count: -1}\n", "3:24: 'count' of group 'a' must be between 0 and 10000, not -1"),
    ("count too big", "fixture: f\ngroups:\n  a: {image: x, count: 50000}\n", "3:24: 'count' of group 'a' must be between 0 and 10000, not 50000"),
    ("count quoted", "fixture: f\ngroups:\n  a: {image: x, count: \"3\"}\n", "3:24: 'count' of group 'a' must be a whole number, not '3'"),
    (
      "too many instances", "fixture: f\ngroups:\n  a: {image: x, count: 600}\n  b: {image: x, count: 600}\n",
      "3:3: the manifest asks for 1200 instances; at most 1000 are allowed with the docker driver (each instance is a port of one Linux bridge)"
    ),
    ("command empty list", "fixture: f\ngroups:\n  a: {image: x, command: []}\n", "3:26: 'command' of group 'a' must not be empty"),
    (
      "command a mapping", "fixture: f\ngroups:\n  a: {image: x, command: {a: b}}\n",
      "3:26: 'command' of group 'a' must be a list of strings, not a mapping"
    ),
    ("env a list", "fixture: f\ngroups:\n  a: {image: x, env: [A=1]}\n", "3:22: 'env' of group 'a' must be a mapping, not a list"),
    ("env value a list", "fixture: f\ngroups:\n  a:\n    image: x\n    env: {A: [1]}\n", "5:14: env 'A' of group 'a' must be a string, not a list"),
    (
      "relative mount", "fixture: f\ngroups:\n  a:\n    image: x\n    mounts: {etc: opt/etc}\n",
      "5:19: mount 'etc' of group 'a': container path 'opt/etc' must be absolute, without '..'"
    ),
    (
      "template source missing",
      "fixture: f\ngroups:\n  a:\n    image: x\n    templates:\n      - {source: templates/none.json, target: etc/c.json}\n",
      "6:9: template source 'templates/none.json' does not exist (looked for $DIR/templates/none.json)"
    ),
    (
      "absolute target", "fixture: f\ngroups:\n  a:\n    image: x\n    templates:\n      - {source: templates/c.json, target: /etc/c.json}\n",
      "6:44: target '/etc/c.json' must be relative: '<mount>/<path>', e.g. etc/config.json"
    ),
    (
      "dotdot target", "fixture: f\ngroups:\n  a:\n    image: x\n    templates:\n      - {source: templates/c.json, target: etc/../../x}\n",
      "6:44: target 'etc/../../x' must not contain '..', '.' or empty parts"
    ),
    (
      "undeclared mount", "fixture: f\ngroups:\n  a:\n    image: x\n    templates:\n      - {source: templates/c.json, target: data/c.json}\n",
      "6:44: target 'data/c.json' names mount 'data', which group 'a' does not declare (it has etc, var)"
    ),
    (
      "target without path", "fixture: f\ngroups:\n  a:\n    image: x\n    files:\n      - {source: templates/c.json, target: etc}\n",
      "6:44: target 'etc' must name a mount and a path, e.g. etc/config.json"
    ),
    (
      "file entry without target", "fixture: f\ngroups:\n  a:\n    image: x\n    files:\n      - {source: templates/c.json}\n",
      "6:9: an entry of 'files' in group 'a' needs both 'source' and 'target'"
    ),
    (
      "bad mode", "fixture: f\ngroups:\n  a:\n    image: x\n    files:\n      - {source: templates/c.json, target: etc/c, mode: \"0999\"}\n",
      "6:57: mode '0999' must be octal digits such as \"0644\" or \"0755\""
    ),
    (
      "bad port", "fixture: f\ngroups:\n  a: {image: x, ports: [\"99999\"]}\n",
      "3:25: port '99999' must be \"HOST:CONTAINER\" or CONTAINER, each 1–65535"
    ),
    ("bad port protocol", "fixture: f\ngroups:\n  a: {image: x, ports: [\"80/sctp\"]}\n", "3:25: port '80/sctp': protocol must be tcp or udp"),
    (
      "port collision", "fixture: f\ngroups:\n  a: {image: x, count: 3, ports: [\"30000:80\"]}\n  b: {image: x, ports: [\"30002:80\"]}\n",
      "4:25: group 'b': host ports 30002–30002/tcp collide with group 'a' (30000–30002)"
    ),
    (
      "healthcheck without command", "fixture: f\ngroups:\n  a: {image: x, healthcheck: {retries: 3}}\n",
      "3:30: 'healthcheck' of group 'a' needs a 'command'"
    ),
    (
      "bad duration", "fixture: f\ngroups:\n  a: {image: x, stop_timeout: 5 seconds}\n",
      "3:31: 'stop_timeout' of group 'a' must be a duration such as 500ms, 2s, 1m30s, not '5 seconds'"
    ),
    (
      "bad interval", "fixture: f\ngroups:\n  a: {image: x, healthcheck: {command: [x], interval: fast}}\n",
      "3:55: 'healthcheck.interval' must be a duration such as 500ms, 2s, 1m30s, not 'fast'"
    ),
    (
      "bad memory", "fixture: f\ngroups:\n  a: {image: x, memory: lots}\n",
      "3:25: 'memory' of group 'a' must be a size such as 16m, 1g, 512k, not 'lots'"
    ),
    ("bad cpus", "fixture: f\ngroups:\n  a: {image: x, cpus: -1}\n", "3:23: 'cpus' of group 'a' must be more than 0"),
    (
      "bad on_change", "fixture: f\ngroups:\n  a: {image: x, on_change: reload}\n",
      "3:28: 'on_change' must be 'restart', 'none' or 'signal:<NAME>', not 'reload'"
    ),
    (
      "bad signal", "fixture: f\ngroups:\n  a: {image: x, on_change: \"signal:FOO\"}\n",
      "3:28: unknown signal 'FOO' in 'on_change'; use a name such as HUP, INT, TERM, KILL, USR1, USR2, QUIT, STOP, CONT"
    ),
    (
      "unknown depends_on", "fixture: f\ngroups:\n  web: {image: x, depends_on: [dbb]}\n  db: {image: x}\n",
      "3:32: group 'web' depends on unknown group 'dbb'; did you mean 'db'?"
    ),
    (
      "depends_on cycle", "fixture: f\ngroups:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [a]}\n",
      "3:30: depends_on cycle: a → b → a"
    ),
    ("self dependency", "fixture: f\ngroups:\n  a: {image: x, depends_on: [a]}\n", "3:30: group 'a' depends on itself"),
    ("duplicate key", "fixture: f\nfixture: g\ngroups: {a: {image: x}}\n", "2:1: duplicate key 'fixture' (first at line 1)"),
    ("duplicate group", "fixture: f\ngroups:\n  a: {image: x}\n  a: {image: y}\n", "4:3: duplicate key 'a' (first at line 3)"),
    ("unknown alias", "fixture: f\ngroups:\n  a: *nope\n", "3:6: unknown alias '*nope'"),
    (
      "syntax error", "fixture: f\ngroups:\n  a: {image: x\n",
      "4:1: YAML syntax error: while parsing a flow mapping: did not find expected ',' or '}'"
    ),
    ("two documents", "fixture: f\ngroups: {a: {image: x}}\n---\nfixture: g\n", "3:1: a manifest is one YAML document; remove the second '---'"),
    ("top-level list", "- a\n- b\n", "1:1: the manifest must be a mapping, not a list"),
    (
      "process driver with image", "fixture: f\ndriver: process\ngroups:\n  a: {image: x, command: [x]}\n",
      "4:14: group 'a': 'image' and 'build' are for the docker driver; the process driver runs 'command' on the host"
    ),
    (
      "process driver without command", "fixture: f\ndriver: process\ngroups:\n  a: {count: 2}\n",
      "4:3: group 'a' needs a 'command' (the process driver runs it on the host)"
    ),
    (
      "swarm driver with ports", "fixture: f\ndriver: swarm\ngroups:\n  a: {image: x, ports: [8080]}\n",
      "4:24: 'ports' of group 'a': the swarm driver publishes no ports (they would open on whichever node runs the instance); reach an instance at its address on the fixture's overlay network (instance.ip) from another instance"
    ),
    (
      "process driver with ports", "fixture: f\ndriver: process\ngroups:\n  a: {command: [x], ports: [8080]}\n",
      "4:28: 'ports' of group 'a': the process driver publishes no ports; an instance listens on its own address (instance.ip, CTHULHU_IP)"
    ),
    (
      "process driver with memory", "fixture: f\ndriver: process\ndefaults: {memory: 16m}\ngroups:\n  a: {command: [x]}\n",
      "3:20: 'memory' of group 'a' is a container limit; the process driver cannot apply it"
    ),
    (
      "process driver with cpus", "fixture: f\ndriver: process\ngroups:\n  a: {command: [x], cpus: 1}\n",
      "4:27: 'cpus' of group 'a' is a container limit; the process driver cannot apply it"
    ),
    ("build before image", "fixture: f\ngroups:\n  a:\n    build: ctx\n    image: x\n", "5:5: group 'a' has both 'image' and 'build'; keep one"),
    (
      "image from defaults, build in the group", "fixture: f\ngroups:\n  a:\n    build: ctx\ndefaults: {image: x}\n",
      "4:5: group 'a' has both 'image' and 'build'; keep one"
    ),
    (
      "second depends_on entry unknown", "fixture: f\ngroups:\n  db: {image: x}\n  web:\n    image: x\n    depends_on:\n      - db\n      - cache\n",
      "8:9: group 'web' depends on unknown group 'cache'"
    ),
    (
      "host ports past 65535", "fixture: f\ngroups:\n  a:\n    image: x\n    count: 2\n    ports: [80, \"65535:80\"]\n",
      "6:17: group 'a': host ports 65535–65536 go past 65535"
    ),
    (
      "three-group cycle",
      "fixture: f\ngroups:\n  a: {image: x}\n  b:\n    image: x\n    depends_on: [a, c]\n  c:\n    image: x\n    depends_on: [b]\n",
      "6:21: depends_on cycle: b → c → b"
    ),
    (
      "yes as a bool-like count", "fixture: f\ngroups:\n  a: {image: x, count: yes}\n", "3:24: 'count' of group 'a' must be a whole number, not 'yes'"
    ),
  ]

  func testSwarmRefusesBuildAtItsKey() {
    let got = errors("fixture: f\ndriver: swarm\ngroups:\n  a: {build: ., command: [x]}\n")
    XCTAssertEqual(
      got.first,
      "4:14: group 'a': 'build' makes an image on one engine; the swarm driver needs 'image', an image every node has (docker load it on each, or run a registry the nodes pull from)"
    )
  }

  func testEveryMalformedManifestGetsItsExactMessage() {
    XCTAssertGreaterThanOrEqual(cases.count, 40)
    for (name, text, expected) in cases {
      let got = errors(text)
      XCTAssertEqual(got, [expected.replacingOccurrences(of: "$DIR", with: dir)], name)
    }
  }

  func testAllProblemsReportedInOneRun() {
    let got = errors("fixture: Bad\ngroups:\n  a:\n    imag: x\n    count: -2\n")
    XCTAssertEqual(
      got,
      [
        "1:10: fixture name 'Bad' must match [a-z0-9][a-z0-9-]* and be at most 40 characters",
        "3:3: group 'a' needs 'image' or 'build'",
        "4:5: unknown key 'imag' in group 'a'; did you mean 'image'?",
        "5:12: 'count' of group 'a' must be between 0 and 10000, not -2",
      ])
  }

  func testRenderQuotesLineAndCaret() {
    do {
      _ = try ManifestLoader.load(text: "fixture: f\ngroups:\n  a:\n    image: x\n    comand: [a]\n", path: "x.yaml")
      XCTFail("expected an error")
    } catch {
      XCTAssertEqual(
        error.render(), "x.yaml:5:5: error: unknown key 'comand' in group 'a'; did you mean 'command'?\n    comand: [a]\n    ^\n1 error\n")
    }
  }

  func testCrossFieldErrorsQuoteTheOffendingEntry() {
    do {
      _ = try ManifestLoader.load(text: "fixture: f\ngroups:\n  web:\n    image: x\n    depends_on: [db, nope]\n  db: {image: x}\n", path: "x.yaml")
      XCTFail("expected an error")
    } catch {
      XCTAssertEqual(
        error.render(),
        "x.yaml:5:22: error: group 'web' depends on unknown group 'nope'\n    depends_on: [db, nope]\n                     ^\n1 error\n")
    }
  }

  func testEmptyAndInvalidUTF8() {
    XCTAssertEqual(errors(""), ["1:1: manifest is empty; it needs at least 'fixture' and 'groups'"])
    XCTAssertEqual(errors("# only a comment\n"), ["1:1: manifest is empty; it needs at least 'fixture' and 'groups'"])
    let bad: [UInt8] = Array("fixture: f\ngroups: {a: {image: ".utf8) + [0xC3, 0x28] + Array("}}\n".utf8)
    let path = dir + "/bad.yaml"
    _ = FileManager.default.createFile(atPath: path, contents: Data(bad))
    do {
      _ = try ManifestLoader.load(path: path)
      XCTFail("invalid UTF-8 must be refused")
    } catch {
      XCTAssertEqual(error.diagnostics.count, 1)
      XCTAssertTrue(error.diagnostics[0].message.contains("UTF-8"), error.diagnostics[0].message)
      XCTAssertEqual(error.diagnostics[0].location.line, 2)
      XCTAssertEqual(error.diagnostics[0].location.column, 22, "the offending byte")
    }
  }

  func testAliasBombIsRefusedQuickly() {
    var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
    text += "fixture: f\ngroups: {a: {image: x}}\n"
    let start = Date()
    let got = errors(text)
    XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    XCTAssertEqual(got.count, 1)
    XCTAssertTrue(got[0].contains("aliases expand to more than 100000 nodes"), "\(got)")
  }

  func testDeepNestingIsRefused() {
    let text = "fixture: f\nvars:\n  deep: " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "\ngroups: {a: {image: x}}\n"
    let got = errors(text)
    XCTAssertEqual(got.count, 1)
    XCTAssertTrue(got[0].contains("nesting deeper than 128 levels"), "\(got)")
  }

  func testMissingFileAndFolder() {
    do {
      _ = try ManifestLoader.load(path: dir + "/none.yaml")
      XCTFail()
    } catch { XCTAssertEqual(error.diagnostics.first?.message, "no such manifest (create one with `cthulhu init`)") }
    do {
      _ = try ManifestLoader.load(path: dir)
      XCTFail()
    } catch { XCTAssertEqual(error.diagnostics.first?.message, "is a folder, not a manifest file") }
  }
}

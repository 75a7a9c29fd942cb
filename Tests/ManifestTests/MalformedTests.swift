import Foundation
import XCTest

@testable import Manifest

/// Malformed manifests, each with the exact diagnostics it must produce.
final class MalformedTests: XCTestCase {
  /// A minimal valid manifest with one group `a`; `extra` is appended to the group.
  static func group(_ extra: String) -> String {
    "fixture: t\ngroups:\n  a:\n    image: x\n" + extra
  }

  static let cases: [(name: String, yaml: String, expected: [String])] = [
    ("empty", "", ["1:1: manifest is empty; it needs at least 'fixture' and 'groups'"]),
    ("top is a list", "- a\n", ["1:1: the manifest must be a mapping, not a list"]),
    ("missing groups", "fixture: t\n", ["1:1: missing required key 'groups' (at least one group of instances)"]),
    ("missing fixture", "groups:\n  a:\n    image: x\n", ["1:1: missing required key 'fixture' (the fixture's name)"]),
    (
      "bad fixture name", "fixture: Bad_Name\ngroups: {a: {image: x}}\n",
      ["1:10: fixture name 'Bad_Name' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"]
    ),
    (
      "fixture too long", "fixture: \(String(repeating: "a", count: 41))\ngroups: {a: {image: x}}\n",
      ["1:10: fixture name '\(String(repeating: "a", count: 41))' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"]
    ),
    ("fixture is a list", "fixture: [a]\ngroups: {a: {image: x}}\n", ["1:10: 'fixture' must be a string, not a list"]),
    (
      "misspelt top key", "fixtur: t\ngroups: {a: {image: x}}\n",
      [
        "1:1: unknown key 'fixtur' in the manifest; did you mean 'fixture'?",
        "1:1: missing required key 'fixture' (the fixture's name)",
      ]
    ),
    ("unknown driver", "fixture: t\ndriver: podman\ngroups: {a: {image: x}}\n", ["2:9: unknown driver 'podman'; use 'docker', 'swarm' or 'process'"]),
    ("empty root", "fixture: t\nroot: ''\ngroups: {a: {image: x}}\n", ["2:7: 'root' must not be empty"]),
    (
      "bad subnet", "fixture: t\nnetwork: {subnet: 10.0.0.0/33}\ngroups: {a: {image: x}}\n",
      ["2:19: '10.0.0.0/33' is not an IPv4 network in CIDR form such as 172.28.5.0/24"]
    ),
    (
      "subnet with host bits", "fixture: t\nnetwork:\n  subnet: 10.0.0.1/24\ngroups: {a: {image: x}}\n",
      ["3:11: '10.0.0.1/24' is not an IPv4 network in CIDR form such as 172.28.5.0/24"]
    ),
    (
      "unknown network mode", "fixture: t\nnetwork: {mode: bridge}\ngroups: {a: {image: x}}\n",
      ["2:17: unknown network mode 'bridge'; use 'loopback' or 'namespaces'"]
    ),
    (
      "unknown network key", "fixture: t\nnetwork: {subnett: 10.0.0.0/24}\ngroups: {a: {image: x}}\n",
      ["2:11: unknown key 'subnett' in 'network'; did you mean 'subnet'?"]
    ),
    (
      "subnet too small", "fixture: t\nnetwork:\n  subnet: 10.0.0.0/30\ngroups: {a: {image: x, count: 3}}\n",
      ["3:11: subnet 10.0.0.0/30 holds 1 instances (from .2; .1 is the gateway) but the groups ask for 3"]
    ),
    (
      "network mode with docker", "fixture: t\nnetwork: {mode: namespaces}\ngroups: {a: {image: x}}\n",
      ["2:17: 'network.mode' is for driver: process; docker instances get the fixture's own network"]
    ),
    (
      "unknown fault path", "fixture: t\nfaults: {via: ssh}\ngroups: {a: {image: x}}\n",
      ["2:15: unknown fault path 'ssh'; use 'auto', 'host' or 'helper'"]
    ),
    (
      "fault helper with the process driver", "fixture: t\ndriver: process\nfaults: {via: helper}\ngroups: {a: {command: x}}\n",
      ["3:15: 'faults.via: helper' needs a container engine (driver: docker); the process driver's faults are entered from the host"]
    ),
    (
      "unknown faults key", "fixture: t\nfaults: {vias: helper}\ngroups: {a: {image: x}}\n",
      ["2:10: unknown key 'vias' in 'faults'; did you mean 'via'?"]
    ),
    ("vars is a list", "fixture: t\nvars: [1]\ngroups: {a: {image: x}}\n", ["2:7: 'vars' must be a mapping, not a list"]),
    (
      "unknown key in defaults", "fixture: t\ndefaults: {imag: x}\ngroups: {a: {image: x}}\n",
      ["2:12: unknown key 'imag' in 'defaults'; did you mean 'image'?"]
    ),
    ("groups is a list", "fixture: t\ngroups: [a]\n", ["2:9: 'groups' must be a mapping, not a list"]),
    ("groups is empty", "fixture: t\ngroups: {}\n", ["2:9: 'groups' is empty; declare at least one group"]),
    (
      "bad group name", "fixture: t\ngroups:\n  Web_1: {image: x}\n",
      ["3:3: group name 'Web_1' must match [a-z0-9][a-z0-9-]* and be at most 40 characters"]
    ),
    ("group is a list", "fixture: t\ngroups:\n  a: [x]\n", ["3:6: group 'a' must be a mapping, not a list"]),
    (
      "misspelt group key", group("    comand: [x]\n"),
      ["5:5: unknown key 'comand' in group 'a'; did you mean 'command'?"]
    ),
    ("unknown group key without suggestion", group("    zzzzzzzz: 1\n"), ["5:5: unknown key 'zzzzzzzz' in group 'a'"]),
    ("image and build", group("    build: ctx\n"), ["5:5: group 'a' has both 'image' and 'build'; keep one"]),
    ("neither image nor build", "fixture: t\ngroups:\n  a:\n    count: 2\n", ["3:3: group 'a' needs 'image' or 'build'"]),
    ("image with spaces", "fixture: t\ngroups:\n  a:\n    image: my app\n", ["4:12: 'my app' is not an image reference"]),
    (
      "build context missing", "fixture: t\ngroups:\n  a:\n    build: nowhere\n",
      ["4:12: build context 'nowhere' of group 'a' is not a folder (looked for DIR/nowhere)"]
    ),
    (
      "build without Dockerfile", "fixture: t\ngroups:\n  a:\n    build: {context: templates}\n",
      ["4:12: build context 'templates' of group 'a' has no Dockerfile"]
    ),
    (
      "build without context", "fixture: t\ngroups:\n  a:\n    build: {dockerfile: D}\n",
      ["4:12: 'build' of group 'a' needs a 'context' folder"]
    ),
    ("negative count", group("    count: -1\n"), ["5:12: 'count' of group 'a' must be between 0 and 10000, not -1"]),
    ("count is a word", group("    count: three\n"), ["5:12: 'count' of group 'a' must be a whole number, not 'three'"]),
    ("count too big", group("    count: 10001\n"), ["5:12: 'count' of group 'a' must be between 0 and 10000, not 10001"]),
    (
      "too many instances in total", "fixture: t\ngroups:\n  a: {image: x, count: 600}\n  b: {image: x, count: 600}\n",
      ["3:3: the manifest asks for 1200 instances; at most 1000 are allowed with the docker driver (each instance is a port of one Linux bridge)"]
    ),
    ("empty command", group("    command: []\n"), ["5:14: 'command' of group 'a' must not be empty"]),
    ("command is a mapping", group("    command: {a: b}\n"), ["5:14: 'command' of group 'a' must be a list of strings, not a mapping"]),
    ("command item is a list", group("    command: [a, [b]]\n"), ["5:18: each item of 'command' of group 'a' must be a string, not a list"]),
    ("env is a list", group("    env: [A]\n"), ["5:10: 'env' of group 'a' must be a mapping, not a list"]),
    ("env value is a list", group("    env: {A: [1]}\n"), ["5:14: env 'A' of group 'a' must be a string, not a list"]),
    ("env name with =", group("    env: {\"A=B\": 1}\n"), ["5:11: environment variable name 'A=B' is not valid"]),
    (
      "relative mount path", group("    mounts: {etc: opt/etc}\n"),
      ["5:19: mount 'etc' of group 'a': container path 'opt/etc' must be absolute, without '..'"]
    ),
    ("bad mount name", group("    mounts: {Etc: /etc}\n"), ["5:14: mount name 'Etc' must match [a-z0-9][a-z0-9-]*"]),
    (
      "mount with faults but no path", group("    mounts:\n      data: {faults: true}\n"),
      ["6:13: mount 'data' of group 'a' needs 'path' (where the instance sees it)"]
    ),
    (
      "mount faults not a boolean", group("    mounts:\n      data: {path: /data, faults: maybe}\n"),
      ["6:35: 'faults' of mount 'data' must be true or false, not 'maybe'"]
    ),
    (
      "mount with an unknown key", group("    mounts:\n      data: {path: /data, fault: true}\n"),
      ["6:27: unknown key 'fault' in mount 'data' of group 'a'; did you mean 'faults'?"]
    ),
    (
      "relative path of a mount with faults", group("    mounts:\n      data: {path: data, faults: true}\n"),
      ["6:20: mount 'data' of group 'a': container path 'data' must be absolute, without '..'"]
    ),
    (
      "faults on swarm", "fixture: t\ndriver: swarm\ngroups:\n  a:\n    image: x\n    mounts:\n      data: {path: /data, faults: true}\n",
      [
        "7:35: 'faults' of mount 'data' of group 'a': the disk layer runs on this machine, and the swarm driver's instances on others"
      ]
    ),
    (
      "template source missing", group("    templates:\n      - {source: templates/nope.conf, target: etc/nope.conf}\n"),
      ["6:9: template source 'templates/nope.conf' does not exist (looked for DIR/templates/nope.conf)"]
    ),
    (
      "template source is a folder", group("    templates:\n      - {source: templates, target: etc/x}\n"),
      ["6:9: template source 'templates' does not exist (looked for DIR/templates)"]
    ),
    (
      "absolute target", group("    templates:\n      - {source: templates/a.conf, target: /etc/a.conf}\n"),
      ["6:44: target '/etc/a.conf' must be relative: '<mount>/<path>', e.g. etc/config.json"]
    ),
    (
      "target with ..", group("    files:\n      - {source: files/run.sh, target: etc/../run.sh}\n"),
      ["6:40: target 'etc/../run.sh' must not contain '..', '.' or empty parts"]
    ),
    (
      "target with empty part", group("    files:\n      - {source: files/run.sh, target: etc//run.sh}\n"),
      ["6:40: target 'etc//run.sh' must not contain '..', '.' or empty parts"]
    ),
    (
      "target on undeclared mount", group("    files:\n      - {source: files/run.sh, target: data/run.sh}\n"),
      ["6:40: target 'data/run.sh' names mount 'data', which group 'a' does not declare (it has etc, var)"]
    ),
    (
      "target without a path", group("    files:\n      - {source: files/run.sh, target: etc}\n"),
      ["6:40: target 'etc' must name a mount and a path, e.g. etc/config.json"]
    ),
    (
      "file without target", group("    files:\n      - {source: files/run.sh}\n"),
      ["6:9: an entry of 'files' in group 'a' needs both 'source' and 'target'"]
    ),
    (
      "unknown key in a file entry", group("    files:\n      - {source: files/run.sh, target: etc/x, mod: 1}\n"),
      ["6:47: unknown key 'mod' in an entry of 'files' in group 'a'; did you mean 'mode'?"]
    ),
    (
      "bad mode", group("    files:\n      - {source: files/run.sh, target: etc/x, mode: \"0999\"}\n"),
      ["6:53: mode '0999' must be octal digits such as \"0644\" or \"0755\""]
    ),
    (
      "templates is a mapping", group("    templates: {source: x}\n"),
      ["5:16: 'templates' of group 'a' must be a list of {source, target}"]
    ),
    ("port is a word", group("    ports: [http]\n"), ["5:13: port 'http' must be \"HOST:CONTAINER\" or CONTAINER, each 1–65535"]),
    ("port protocol", group("    ports: [\"8080/sctp\"]\n"), ["5:13: port '8080/sctp': protocol must be tcp or udp"]),
    ("port out of range", group("    ports: [70000]\n"), ["5:13: port '70000' must be \"HOST:CONTAINER\" or CONTAINER, each 1–65535"]),
    ("ports is a string", group("    ports: \"8080\"\n"), ["5:12: 'ports' of group 'a' must be a list such as [\"30000:8080\", 9090]"]),
    (
      "host ports collide", "fixture: t\ngroups:\n  a: {image: x, count: 3, ports: [\"30000:80\"]}\n  b: {image: x, ports: [\"30002:80\"]}\n",
      ["4:25: group 'b': host ports 30002–30002/tcp collide with group 'a' (30000–30002)"]
    ),
    (
      "host ports past 65535", "fixture: t\ngroups:\n  a: {image: x, count: 3, ports: [\"65534:80\"]}\n",
      ["3:35: group 'a': host ports 65534–65536 go past 65535"]
    ),
    (
      "host ports of an empty group do not collide",
      "fixture: t\ngroups:\n  a: {image: x, count: 0, ports: [\"30000:80\"]}\n  b: {image: x, ports: [\"30000:80\"]}\n", []
    ),
    (
      "same host port, other protocol", "fixture: t\ngroups:\n  a: {image: x, ports: [\"53:53/udp\", \"53:53\"]}\n", []
    ),
    ("healthcheck without command", group("    healthcheck: {interval: 1s}\n"), ["5:18: 'healthcheck' of group 'a' needs a 'command'"]),
    (
      "bad healthcheck interval", group("    healthcheck: {command: [x], interval: 5 seconds}\n"),
      ["5:43: 'healthcheck.interval' must be a duration such as 500ms, 2s, 1m30s, not '5 seconds'"]
    ),
    (
      "unknown healthcheck key", group("    healthcheck: {command: [x], retry: 3}\n"),
      ["5:33: unknown key 'retry' in 'healthcheck' of group 'a'; did you mean 'retries'?"]
    ),
    (
      "healthcheck retries zero", group("    healthcheck: {command: [x], retries: 0}\n"),
      ["5:42: 'healthcheck.retries' must be between 1 and 10000, not 0"]
    ),
    ("bad memory", group("    memory: lots\n"), ["5:13: 'memory' of group 'a' must be a size such as 16m, 1g, 512k, not 'lots'"]),
    ("zero cpus", group("    cpus: 0\n"), ["5:11: 'cpus' of group 'a' must be more than 0"]),
    ("cpus is a word", group("    cpus: many\n"), ["5:11: 'cpus' of group 'a' must be a number, not 'many'"]),
    (
      "stop_timeout without unit", group("    stop_timeout: 10\n"),
      ["5:19: 'stop_timeout' of group 'a' must be a duration such as 500ms, 2s, 1m30s, not '10'"]
    ),
    ("bad on_change", group("    on_change: reload\n"), ["5:16: 'on_change' must be 'restart', 'none' or 'signal:<NAME>', not 'reload'"]),
    (
      "unknown signal", group("    on_change: signal:FOO\n"),
      ["5:16: unknown signal 'FOO' in 'on_change'; use a name such as HUP, INT, TERM, KILL, USR1, USR2, QUIT, STOP, CONT"]
    ),
    (
      "depends_on unknown group", "fixture: t\ngroups:\n  server: {image: x}\n  client: {image: x, depends_on: [servr]}\n",
      ["4:35: group 'client' depends on unknown group 'servr'; did you mean 'server'?"]
    ),
    ("depends_on itself", "fixture: t\ngroups:\n  a: {image: x, depends_on: [a]}\n", ["3:30: group 'a' depends on itself"]),
    (
      "depends_on cycle",
      "fixture: t\ngroups:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n",
      ["3:30: depends_on cycle: a → b → c → a"]
    ),
    ("depends_on is a string", group("    depends_on: b\n"), ["5:17: 'depends_on' of group 'a' must be a list of strings, not a scalar"]),
    ("duplicate key", group("    count: 1\n    count: 2\n"), ["6:5: duplicate key 'count' (first at line 5)"]),
    ("duplicate group", "fixture: t\ngroups:\n  a: {image: x}\n  a: {image: y}\n", ["4:3: duplicate key 'a' (first at line 3)"]),
    (
      "process driver with image", "fixture: t\ndriver: process\ngroups:\n  a: {image: x, command: [run]}\n",
      ["4:14: group 'a': 'image' and 'build' are for the docker driver; the process driver runs 'command' on the host"]
    ),
    (
      "process driver without command", "fixture: t\ndriver: process\ngroups:\n  a: {count: 2}\n",
      ["4:3: group 'a' needs a 'command' (the process driver runs it on the host)"]
    ),
    ("syntax error", "fixture: t\ngroups: [a\n", ["3:1: YAML syntax error: while parsing a flow sequence: did not find expected ',' or ']'"]),
    (
      "tab indentation", "fixture: t\ngroups:\n\ta: {image: x}\n",
      ["3:1: YAML syntax error: while scanning for the next token: found character that cannot start any token"]
    ),
    (
      "several problems at once", "fixture: T\ngroups:\n  a:\n    image: x\n    count: -2\n    comand: y\n",
      [
        "1:10: fixture name 'T' must match [a-z0-9][a-z0-9-]* and be at most 40 characters",
        "5:12: 'count' of group 'a' must be between 0 and 10000, not -2",
        "6:5: unknown key 'comand' in group 'a'; did you mean 'command'?",
      ]
    ),
  ]

  func testMalformedManifests() throws {
    let dir = try TempDir()
    XCTAssertGreaterThanOrEqual(Self.cases.count, 40)
    for c in Self.cases {
      let got = problems(c.yaml, in: dir).map { $0.replacingOccurrences(of: dir.path, with: "DIR") }
      XCTAssertEqual(got, c.expected, "case '\(c.name)'")
    }
  }
}

import Foundation
import TestSupport
import XCTest

/// `cthulhu schema` checked by a real JSON Schema validator (python3's
/// `jsonschema`, the reference implementation of draft-07's `if`/`then`),
/// not by a validator written here, which would share the schema's
/// misreadings. Every case is also given to `cthulhu validate`: the schema
/// refuses what the decoder refuses and never refuses what it accepts.
/// Skipped without python3, jsonschema and yaml (CI installs them).
final class SchemaTests: XCTestCase {
  static let manifests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("manifests").path

  /// Prints `valid` or `invalid: <why>` for each file, one line each.
  static let checker = """
    import json, sys, yaml, jsonschema
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    for path in sys.argv[2:]:
        errors = sorted(v.iter_errors(yaml.safe_load(open(path))), key=lambda e: list(e.path))
        print("valid" if not errors else "invalid: " + errors[0].message.replace("\\n", " "))
    """

  var dir = ""

  override func setUp() async throws {
    let probe = try? Harness.run("/usr/bin/env", ["python3", "-c", "import jsonschema, yaml"])
    try Harness.require(probe?.status == 0, "python3 with jsonschema and yaml is missing (apt install python3-jsonschema python3-yaml)")
    dir = try Harness.tempDir("schema")
    try FileManager.default.createDirectory(atPath: dir + "/ctx", withIntermediateDirectories: true)
    try "FROM scratch\n".write(toFile: dir + "/ctx/Dockerfile", atomically: true, encoding: .utf8)
  }

  override func tearDown() async throws {
    if !dir.isEmpty { try? FileManager.default.removeItem(atPath: dir) }
  }

  /// (name, manifest as JSON, which YAML reads as it is, valid?)
  let cases: [(String, String, Bool)] = [
    ("docker image", #"{"fixture": "f", "groups": {"a": {"image": "x"}}}"#, true),
    ("docker build", #"{"fixture": "f", "groups": {"a": {"build": {"context": "ctx"}}}}"#, true),
    ("image from defaults", #"{"fixture": "f", "defaults": {"image": "x"}, "groups": {"a": {}, "b": {"count": 2}}}"#, true),
    ("build from defaults", #"{"fixture": "f", "defaults": {"build": "ctx"}, "groups": {"a": {"count": 2}}}"#, true),
    (
      "every user form",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "user": "alice"}, "b": {"image": "x", "user": 1000}, "c": {"image": "x", "user": "1000:50"}, "d": {"image": "x", "user": "alice:staff"}}}"#,
      true
    ),
    ("a good subnet", #"{"fixture": "f", "network": {"subnet": "172.28.5.0/24"}, "groups": {"a": {"image": "x"}}}"#, true),
    (
      "process, namespaces",
      #"{"fixture": "f", "driver": "process", "network": {"mode": "namespaces", "subnet": "10.1.2.0/24"}, "groups": {"a": {"command": ["x"], "user": "4242"}}}"#,
      true
    ),
    (
      "process, command from defaults", #"{"fixture": "f", "driver": "process", "defaults": {"command": "sleep 1"}, "groups": {"a": {"count": 2}}}"#,
      true
    ),
    ("swarm image", #"{"fixture": "f", "driver": "swarm", "groups": {"a": {"image": "x", "count": 6}}}"#, true),
    ("swarm with build", #"{"fixture": "f", "driver": "swarm", "groups": {"a": {"build": "ctx"}}}"#, false),
    ("swarm with ports in defaults", #"{"fixture": "f", "driver": "swarm", "defaults": {"ports": [8080]}, "groups": {"a": {"image": "x"}}}"#, false),
    ("image and build", #"{"fixture": "f", "groups": {"a": {"image": "x", "build": "ctx"}}}"#, false),
    ("image and build in defaults", #"{"fixture": "f", "defaults": {"image": "x", "build": "ctx"}, "groups": {"a": {}}}"#, false),
    ("image from defaults, build in the group", #"{"fixture": "f", "defaults": {"image": "x"}, "groups": {"a": {"build": "ctx"}}}"#, false),
    ("build from defaults, image in the group", #"{"fixture": "f", "defaults": {"build": "ctx"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("docker group with neither", #"{"fixture": "f", "groups": {"a": {"image": "x"}, "b": {"count": 2}}}"#, false),
    ("docker group with neither, explicit driver", #"{"fixture": "f", "driver": "docker", "groups": {"a": {"command": ["x"]}}}"#, false),
    ("an octet past 255", #"{"fixture": "f", "network": {"subnet": "10.0.0.300/24"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("a prefix past 32", #"{"fixture": "f", "network": {"subnet": "10.0.0.0/33"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("no prefix", #"{"fixture": "f", "network": {"subnet": "10.0.0.0"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("three octets", #"{"fixture": "f", "network": {"subnet": "10.0.0/8"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("namespaces with docker", #"{"fixture": "f", "network": {"mode": "namespaces"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("docker, faults via helper", #"{"fixture": "f", "faults": {"via": "helper"}, "groups": {"a": {"image": "x"}}}"#, true),
    ("process, faults via host", #"{"fixture": "f", "driver": "process", "faults": {"via": "host"}, "groups": {"a": {"command": ["x"]}}}"#, true),
    (
      "process, faults via helper", #"{"fixture": "f", "driver": "process", "faults": {"via": "helper"}, "groups": {"a": {"command": ["x"]}}}"#, false
    ),
    ("an unknown fault path", #"{"fixture": "f", "faults": {"via": "ssh"}, "groups": {"a": {"image": "x"}}}"#, false),
    ("process with image", #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "image": "x"}}}"#, false),
    ("process with ports", #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "ports": [8080]}}}"#, false),
    (
      "process with memory in defaults",
      #"{"fixture": "f", "driver": "process", "defaults": {"memory": "16m"}, "groups": {"a": {"command": ["x"]}}}"#, false
    ),
    ("process without command", #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"]}, "b": {"count": 1}}}"#, false),
    ("user a:b:c", #"{"fixture": "f", "groups": {"a": {"image": "x", "user": "a:b:c"}}}"#, false),
    ("user -1", #"{"fixture": "f", "groups": {"a": {"image": "x", "user": -1}}}"#, false),
    ("user empty", #"{"fixture": "f", "groups": {"a": {"image": "x", "user": ""}}}"#, false),
    (
      "membership",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3, "membership": {"join": ["j", "{{ instance.name }}"], "leave": "l {{ instance.ip }}", "view": ["v"], "timeout": "5s", "attempts": 4}}}}"#,
      true
    ),
    ("membership without view", #"{"fixture": "f", "groups": {"a": {"image": "x", "membership": {"join": ["j"], "leave": ["l"]}}}}"#, false),
    (
      "membership attempts 0",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "membership": {"join": ["j"], "leave": ["l"], "view": ["v"], "attempts": 0}}}}"#, false
    ),
    (
      "a nemesis",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3}}, "nemesis": {"seed": 7, "faults": [{"partition": "majority", "for": "5s", "every": "15s", "times": 4}, {"delay": "200ms", "jitter": "50ms", "distribution": "uniform", "targets": "random 2", "for": "4s"}, {"kill": "random 1", "signal": "TERM", "for": "3s"}, {"loss": "30%", "targets": ["i001", "i002"], "for": "1s"}, {"rate": "1mbit", "for": "1s"}]}}"#,
      true
    ),
    (
      "workloads",
      #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "workloads": {"w": {"client": {"command": ["./c"]}, "generator": "set", "concurrency": 10, "rate": "500/s", "time_limit": "30s", "final_wait": "10s", "checker": "set-full", "timeout": "2s"}, "q": {"command": "./one.sh", "fail_codes": [3], "generator": "cas-register", "mix": {"read": 2, "cas": 1}}}}"#,
      true
    ),
    ("a workload without a client", #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "workloads": {"w": {"generator": "set"}}}"#, false),
    (
      "a workload with an unknown generator",
      #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "workloads": {"w": {"client": {"command": ["./c"]}, "generator": "sets"}}}"#, false
    ),
    ("a nemesis fault without for", #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "nemesis": {"faults": [{"isolate": "i001"}]}}"#, false),
    (
      "a nemesis fault of two kinds",
      #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "nemesis": {"faults": [{"isolate": "i001", "kill": "i001", "for": "1s"}]}}"#, false
    ),
    (
      "a nemesis partition of an unknown shape",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3}}, "nemesis": {"faults": [{"partition": "thirds", "for": "1s"}]}}"#, false
    ),
    (
      "a cut of targets a command chooses",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3}}, "nemesis": {"faults": [{"partition": "cut", "targets": {"command": ["/bin/echo", "i001"]}, "for": "1s"}, {"kill": {"command": "echo i001"}, "for": "1s"}]}}"#,
      true
    ),
    (
      "a targets command misspelt",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3}}, "nemesis": {"faults": [{"partition": "cut", "targets": {"comand": ["x"]}, "for": "1s"}]}}"#,
      false
    ),
    (
      "kill with targets",
      #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "nemesis": {"faults": [{"kill": "i001", "targets": "i001", "for": "1s"}]}}"#,
      false
    ),
    (
      "jitter without a delay",
      #"{"fixture": "f", "groups": {"a": {"image": "x"}}, "nemesis": {"faults": [{"isolate": "i001", "jitter": "5ms", "for": "1s"}]}}"#, false
    ),
    (
      "a nemesis partition on loopback",
      #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "count": 3}}, "nemesis": {"faults": [{"partition": "halves", "for": "1s"}]}}"#,
      false
    ),
    (
      "a nemesis kill on loopback",
      #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "count": 3}}, "nemesis": {"faults": [{"kill": "random 1", "for": "1s"}]}}"#,
      true
    ),
    (
      "a nemesis partition in namespaces",
      #"{"fixture": "f", "driver": "process", "network": {"mode": "namespaces"}, "groups": {"a": {"command": ["x"], "count": 3}}, "nemesis": {"faults": [{"partition": "halves", "for": "1s"}]}}"#,
      true
    ),
    (
      "a nemesis clock skew",
      #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "count": 2, "clock_skew": true}}, "nemesis": {"faults": [{"clock": "-90s", "targets": "random 1", "for": "5s"}]}}"#,
      true
    ),
    (
      "a nemesis that grows and shrinks a group",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "count": 3, "membership": {"join": ["j"], "leave": ["l"], "view": ["v"]}}}, "nemesis": {"faults": [{"grow": "a", "max": 5, "every": "8s"}, {"shrink": "a", "min": 2, "after": "4s", "every": "8s", "times": 3}, {"kill": "random 1", "for": "2s"}]}}"#,
      true
    ),
    (
      "a nemesis grow that lasts",
      #"{"fixture": "f", "groups": {"a": {"image": "x", "membership": {"join": ["j"], "leave": ["l"], "view": ["v"]}}}, "nemesis": {"faults": [{"grow": "a", "for": "5s"}]}}"#,
      false
    ),
    (
      "a nemesis clock skew that is no offset",
      #"{"fixture": "f", "driver": "process", "groups": {"a": {"command": ["x"], "clock_skew": true}}, "nemesis": {"faults": [{"clock": "soon", "for": "5s"}]}}"#,
      false
    ),
  ]

  func schemaVerdicts(_ files: [String]) throws -> [String] {
    let schema = try Harness.cthulhu(["schema"])
    XCTAssertEqual(schema.status, 0, schema.stderr)
    try schema.stdout.write(toFile: dir + "/schema.json", atomically: true, encoding: .utf8)
    try Self.checker.write(toFile: dir + "/check.py", atomically: true, encoding: .utf8)
    let r = try Harness.run("/usr/bin/env", ["python3", dir + "/check.py", dir + "/schema.json"] + files)
    XCTAssertEqual(r.status, 0, r.stderr)
    return r.stdout.split(separator: "\n").map(String.init)
  }

  func testSchemaAndValidateAgree() throws {
    var files: [String] = []
    for (i, c) in cases.enumerated() {
      let path = dir + "/case\(i).yaml"
      try c.1.write(toFile: path, atomically: true, encoding: .utf8)
      files.append(path)
    }
    let verdicts = try schemaVerdicts(files)
    XCTAssertEqual(verdicts.count, cases.count, verdicts.joined(separator: "\n"))
    for (c, (file, verdict)) in zip(cases, zip(files, verdicts)) {
      XCTAssertEqual(verdict == "valid", c.2, "schema on '\(c.0)': \(verdict)")
      let validate = try Harness.cthulhu(["validate", file])
      XCTAssertEqual(validate.status == 0, c.2, "cthulhu validate on '\(c.0)': \(validate.stdout)\(validate.stderr)")
    }
  }

  func testTheExampleManifestsAreValid() throws {
    let examples = try FileManager.default.contentsOfDirectory(atPath: Self.manifests).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertFalse(examples.isEmpty)
    let verdicts = try schemaVerdicts(examples.map { Self.manifests + "/" + $0 })
    XCTAssertEqual(zip(examples, verdicts).map { "\($0): \($1)" }, examples.map { "\($0): valid" })
  }
}

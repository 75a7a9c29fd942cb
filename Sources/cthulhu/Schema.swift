import ArgumentParser
import Foundation

extension Cthulhu {
  struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "schema",
      abstract: "Print a JSON Schema of the manifest, for editors (yaml-language-server), or of a history line.")

    @Flag(help: "The schema of one line of a history file (history.jsonl) instead.") var history = false

    func run() async throws {
      let document = history ? HistorySchema.document : ManifestSchema.document
      let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
      Output.out(String(decoding: data, as: UTF8.self) + "\n")
    }
  }
}

/// The manifest's JSON Schema (draft-07), kept beside the decoder's key lists.
///
/// It says what a schema can: every key and its type, and the rules that
/// span keys through `if`/`then` (draft-07): `image` or `build` but not both
/// (taking `defaults:` into account), what the process driver refuses
/// (`image`, `build`, `ports`, `memory`, `cpus`, `faults.via: helper`) and
/// needs (`command`), `network.mode: namespaces` only with it, a dotted-quad subnet. What
/// needs the file system or arithmetic (a build context exists, host bits
/// of a subnet, port ranges that collide, depends_on names, nemesis targets
/// and timings) is left to `cthulhu validate`.
enum ManifestSchema {
  nonisolated(unsafe) static let name: [String: Any] = ["type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 40]
  nonisolated(unsafe) static let duration: [String: Any] = [
    "type": "string", "pattern": "^([0-9.]+(ms|s|m|h))+$", "description": "e.g. 500ms, 2s, 1m30s",
  ]
  nonisolated(unsafe) static let command: [String: Any] = [
    "oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"], "minItems": 1]]
  ]
  nonisolated(unsafe) static let fileList: [String: Any] = [
    "type": "array",
    "items": [
      "type": "object", "additionalProperties": false, "required": ["source", "target"],
      "properties": [
        "source": ["type": "string", "description": "relative to the manifest"],
        "target": ["type": "string", "pattern": "^[a-z0-9][a-z0-9-]*/.+", "description": "<mount>/<path>"],
        "mode": ["type": ["string", "integer"], "description": "octal, e.g. \"0644\""],
      ],
    ],
  ]
  nonisolated(unsafe) static let group: [String: Any] = [
    "type": "object", "additionalProperties": false,
    "not": ["required": ["image", "build"], "description": "image and build together"],
    "properties": [
      "image": ["type": "string"],
      "build": [
        "oneOf": [
          ["type": "string"],
          [
            "type": "object", "additionalProperties": false, "required": ["context"],
            "properties": ["context": ["type": "string"], "dockerfile": ["type": "string"]],
          ],
        ]
      ],
      "count": ["type": "integer", "minimum": 0, "maximum": 1000, "default": 1],
      "command": command,
      "env": ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean", "null"]]],
      "mounts": [
        "type": "object",
        "additionalProperties": [
          "oneOf": [
            ["type": "string", "pattern": "^/"],
            [
              "type": "object", "additionalProperties": false, "required": ["path"],
              "properties": [
                "path": ["type": "string", "pattern": "^/"],
                "faults": [
                  "type": "boolean", "default": false,
                  "description": "seen through cthulhu's disk layer: kill --lose-unsynced, disk delay|error|corrupt",
                ],
              ],
            ],
          ]
        ],
        "default": ["etc": "/opt/app/etc", "var": "/opt/app/var"],
      ],
      "templates": fileList,
      "files": fileList,
      "ports": ["type": "array", "items": ["type": ["string", "integer"], "pattern": "^([0-9]+:)?[0-9]+(/(tcp|udp))?$"]],
      "healthcheck": [
        "type": "object", "additionalProperties": false, "required": ["command"],
        "properties": [
          "command": command, "interval": duration, "timeout": duration,
          "retries": ["type": "integer", "minimum": 1], "start_period": duration,
        ],
      ],
      "memory": ["type": ["string", "integer"], "pattern": "^[0-9]+[kmgKMG]?[bB]?$"],
      "cpus": ["type": "number", "exclusiveMinimum": 0],
      "stop_timeout": duration,
      "on_change": ["type": "string", "pattern": "^(restart|none|signal:[A-Za-z0-9]+)$", "default": "restart"],
      "depends_on": ["type": "array", "items": name],
      "clock_skew": [
        "type": "boolean", "default": false,
        "description": "start the instances with libfaketime preloaded, so that `cthulhu clock skew` can move their wall clock",
      ],
      "user": [
        "type": ["string", "integer"], "minimum": 0, "maximum": 4_294_967_294,
        "pattern": "^([A-Za-z_][A-Za-z0-9_.-]*\\$?|[0-9]+)(:([A-Za-z_][A-Za-z0-9_.-]*\\$?|[0-9]+))?$",
        "description": "who instances run as: NAME, UID, NAME:GROUP or UID:GID, e.g. alice or 1000:1000",
      ],
      "membership": [
        "type": "object", "additionalProperties": false, "required": ["join", "leave", "view"],
        "description": "the instances form a cluster: join before a new one starts, leave before one is removed (Stencil per argument)",
        "properties": [
          "join": command, "leave": command, "view": command, "timeout": duration,
          "attempts": ["type": "integer", "minimum": 1, "maximum": 100, "default": 3],
        ],
      ],
    ],
  ]
  nonisolated(unsafe) static let targets: [String: Any] = [
    "oneOf": [
      ["type": "string"], ["type": "array", "items": ["type": "string"], "minItems": 1],
      [
        "type": "object", "additionalProperties": false, "required": ["command"],
        "properties": ["command": ["oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"], "minItems": 1]]]],
      ],
    ],
    "description":
      "instance names, groups, globs or all (i001,i002; server), random N [of POOL], or { command: [...] }: a program that prints them when each occurrence starts",
  ]
  static let networkFaults = ["partition", "isolate", "loss", "duplicate", "rate", "delay"]
  static let processFaults = ["kill", "crash", "pause", "stop"]
  /// A membership change: the group it changes.
  nonisolated(unsafe) static let membershipGroup: [String: Any] = [
    "type": "string", "description": "a group with membership: one instance added (grow) or removed (shrink) at each occurrence",
  ]
  /// One entry of `nemesis.faults`: exactly one fault kind, and `for` (none for `grow` and `shrink`).
  nonisolated(unsafe) static let nemesisFault: [String: Any] = [
    "type": "object", "additionalProperties": false,
    "oneOf": (networkFaults + processFaults + ["clock", "disk_error", "disk_delay", "grow", "shrink"]).map { ["required": [$0]] },
    "properties": [
      "partition": ["enum": ["halves", "majority", "majorities-ring", "bridge", "cut"]],
      "isolate": targets, "kill": targets, "crash": targets, "pause": targets, "stop": targets,
      "torn": ["type": "boolean", "description": "a crash: the last unsynced write of a file survives in part"],
      "loss": ["type": ["string", "number"], "minimum": 0, "maximum": 100, "pattern": "^[0-9.]+%?$"],
      "rate": ["type": "string", "pattern": "^[0-9.]+([kmgKMG]?(bit|bps))$"],
      "duplicate": ["type": ["string", "number"], "minimum": 0, "maximum": 100, "pattern": "^[0-9.]+%?$"],
      "delay": duration, "jitter": duration, "distribution": ["enum": ["normal", "uniform"]],
      "reorder": ["type": ["string", "number"], "minimum": 0, "maximum": 100, "pattern": "^[0-9.]+%?$"],
      "signal": ["type": "string"],
      "clock": [
        "type": "string", "pattern": "^[+-]?[0-9.]+(ms|s|m|h)$",
        "description": "move the targets' wall clock by this offset (+5s, -250ms); their groups say clock_skew: true",
      ],
      "disk_error": [
        "type": "string", "description": "fail the targets' file operations on their mounts with faults with this error (EIO, ENOSPC, EROFS, …)",
      ],
      "disk_delay": duration,
      "ops": [
        "oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"], "minItems": 1]],
        "description": "disk_error, disk_delay: only these operations (read, write, fsync, …)",
      ],
      "path": ["type": "string", "description": "disk_error, disk_delay: only paths inside the mount this regular expression finds"],
      "percent": ["type": ["string", "number"], "minimum": 0, "maximum": 100, "pattern": "^[0-9.]+%?$"],
      "grow": membershipGroup, "shrink": membershipGroup,
      "max": ["type": "integer", "minimum": 1, "description": "grow: the most instances the group has (default: its count + 2)"],
      "min": ["type": "integer", "minimum": 1, "description": "shrink: the fewest instances the group keeps (default: its count − 1, at least 1)"],
      "targets": targets, "after": duration, "for": duration, "every": duration,
      "times": ["type": "integer", "minimum": 1],
    ],
    "dependencies": [
      "jitter": ["delay"], "distribution": ["delay", "jitter"], "reorder": ["delay"], "signal": ["kill"], "torn": ["crash"], "max": ["grow"],
      "min": ["shrink"],
      "ops": ["oneOf": [["required": ["disk_error"]], ["required": ["disk_delay"]]]],
      "path": ["oneOf": [["required": ["disk_error"]], ["required": ["disk_delay"]]]],
      "percent": ["oneOf": [["required": ["disk_error"]], ["required": ["disk_delay"]]]],
    ],
    // isolate, kill, crash, pause and stop take their targets as their value;
    // a membership change has no `for` (and its group is its value), every fault one.
    "allOf": (["isolate"] + processFaults).map { ["if": ["required": [$0]], "then": ["not": ["required": ["targets"]]]] } + [
      [
        "if": ["anyOf": [["required": ["grow"]], ["required": ["shrink"]]]],
        "then": ["not": ["anyOf": [["required": ["for"]], ["required": ["targets"]]]]], "else": ["required": ["for"]],
      ]
    ],
  ]
  nonisolated(unsafe) static let nemesis: [String: Any] = [
    "type": "object", "additionalProperties": false, "required": ["faults"],
    "description": "faults that come and go on a schedule, run by `cthulhu nemesis start`",
    "properties": [
      "seed": ["type": "integer", "minimum": 0],
      "faults": ["type": "array", "minItems": 1, "items": nemesisFault],
    ],
  ]
  static var document: [String: Any] {
    [
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "cthulhu manifest",
      "type": "object", "additionalProperties": false, "required": ["fixture", "groups"],
      "properties": [
        "fixture": name,
        "driver": ["enum": ["docker", "process", "swarm"], "default": "docker"],
        "root": ["type": "string", "default": "cthulhu-fixture"],
        "network": [
          "type": "object", "additionalProperties": false,
          "properties": [
            "subnet": ["type": "string", "pattern": subnet, "description": "IPv4 CIDR, e.g. 172.28.5.0/24"],
            "mode": ["enum": ["loopback", "namespaces"], "default": "loopback"],
          ],
        ],
        "faults": [
          "type": "object", "additionalProperties": false,
          "properties": [
            "via": [
              "enum": ["auto", "host", "helper"], "default": "auto",
              "description":
                "how network faults reach an instance: host (nsenter from this machine, root), helper (a container with NET_ADMIN started through the engine, in the instance's network namespace; docker), auto (host when the instance runs on this machine)",
            ]
          ],
        ],
        "vars": ["type": "object"],
        "defaults": group,
        "groups": ["type": "object", "minProperties": 1, "propertyNames": name, "additionalProperties": group],
        "nemesis": nemesis,
        "workloads": workloads,
      ],
      "allOf": rules,
    ]
  }

  /// `a.b.c.d/n`, each octet 0–255, n 0–32.
  static let subnet: String = {
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    return "^(\(octet)\\.){3}\(octet)/([0-9]|[12][0-9]|3[0-2])$"
  }()

  static let containerOnly = ["image", "build", "ports", "memory", "cpus"]

  /// The rules that span keys; each an `if`/`then` on the whole manifest.
  static var rules: [[String: Any]] {
    let process: [String: Any] = ["properties": ["driver": ["const": "process"]], "required": ["driver"]]
    let docker: [String: Any] = ["not": process]
    let swarm: [String: Any] = ["properties": ["driver": ["const": "swarm"]], "required": ["driver"]]
    let namespaces: [String: Any] = [
      "properties": ["network": ["properties": ["mode": ["const": "namespaces"]], "required": ["mode"]]], "required": ["network"],
    ]
    func any(_ keys: [String]) -> [String: Any] { ["anyOf": keys.map { ["required": [$0]] }] }
    func everyGroup(_ s: [String: Any]) -> [String: Any] { ["properties": ["groups": ["additionalProperties": s]]] }
    func defaults(_ s: [String: Any]) -> [String: Any] { ["properties": ["defaults": s]] }
    func defaultsHave(_ key: String) -> [String: Any] { ["properties": ["defaults": ["required": [key]]], "required": ["defaults"]] }
    return [
      // The process driver runs `command` on the host: no image, no container limits.
      ["if": process, "then": ["allOf": [everyGroup(["not": any(containerOnly)]), defaults(["not": any(containerOnly)])]]],
      ["if": ["allOf": [process, defaults(["not": any(["command"])])]], "then": everyGroup(["required": ["command"]])],
      // Docker: each group has image or build, its own or from defaults; namespaces are the process driver's.
      ["if": ["allOf": [docker, defaults(["not": any(["image", "build"])])]], "then": everyGroup(any(["image", "build"]))],
      ["if": docker, "then": ["properties": ["network": ["properties": ["mode": ["not": ["const": "namespaces"]]]]]]],
      // Swarm: images every node has, no published ports.
      ["if": swarm, "then": ["allOf": [everyGroup(["not": any(["build", "ports"])]), defaults(["not": any(["build", "ports"])])]]],
      // The fault helper is a container: the process driver has no engine to start it on.
      ["if": process, "then": ["properties": ["faults": ["properties": ["via": ["not": ["const": "helper"]]]]]]],
      // Network faults of a nemesis need each process in a namespace of its own.
      [
        "if": ["allOf": [process, ["not": namespaces]]],
        "then": ["properties": ["nemesis": ["properties": ["faults": ["items": ["not": any(networkFaults)]]]]]],
      ],
      // One from defaults, the other in the group: both.
      ["if": defaultsHave("image"), "then": everyGroup(["not": ["required": ["build"]]])],
      ["if": defaultsHave("build"), "then": everyGroup(["not": ["required": ["image"]]])],
    ]
  }
}

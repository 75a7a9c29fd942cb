import ArgumentParser
import Foundation

extension Cthulhu {
  struct Schema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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
enum ManifestSchema {
  nonisolated(unsafe) static let name: [String: Any] = ["type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 40]
  nonisolated(unsafe) static let duration: [String: Any] = ["type": "string", "pattern": "^([0-9.]+(ms|s|m|h))+$", "description": "e.g. 500ms, 2s, 1m30s"]
  nonisolated(unsafe) static let command: [String: Any] = ["oneOf": [["type": "string"], ["type": "array", "items": ["type": "string"], "minItems": 1]]]
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
    "properties": [
      "image": ["type": "string"],
      "build": [
        "oneOf": [
          ["type": "string"],
          ["type": "object", "additionalProperties": false, "required": ["context"],
           "properties": ["context": ["type": "string"], "dockerfile": ["type": "string"]]],
        ]
      ],
      "count": ["type": "integer", "minimum": 0, "maximum": 1000, "default": 1],
      "command": command,
      "env": ["type": "object", "additionalProperties": ["type": ["string", "number", "boolean", "null"]]],
      "mounts": ["type": "object", "additionalProperties": ["type": "string", "pattern": "^/"],
                 "default": ["etc": "/opt/app/etc", "var": "/opt/app/var"]],
      "templates": fileList,
      "files": fileList,
      "ports": ["type": "array", "items": ["type": ["string", "integer"], "pattern": "^([0-9]+:)?[0-9]+(/(tcp|udp))?$"]],
      "healthcheck": [
        "type": "object", "additionalProperties": false, "required": ["command"],
        "properties": ["command": command, "interval": duration, "timeout": duration,
                       "retries": ["type": "integer", "minimum": 1], "start_period": duration],
      ],
      "memory": ["type": ["string", "integer"], "pattern": "^[0-9]+[kmgKMG]?[bB]?$"],
      "cpus": ["type": "number", "exclusiveMinimum": 0],
      "stop_timeout": duration,
      "on_change": ["type": "string", "pattern": "^(restart|none|signal:[A-Za-z0-9]+)$", "default": "restart"],
      "depends_on": ["type": "array", "items": name],
    ],
  ]
  static var document: [String: Any] {
    [
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "cthulhu manifest",
      "type": "object", "additionalProperties": false, "required": ["fixture", "groups"],
      "properties": [
        "fixture": name,
        "driver": ["enum": ["docker", "process"], "default": "docker"],
        "root": ["type": "string", "default": "cthulhu-fixture"],
        "network": [
          "type": "object", "additionalProperties": false,
          "properties": [
            "subnet": ["type": "string", "pattern": "^[0-9.]+/[0-9]+$"],
            "mode": ["enum": ["loopback", "namespaces"], "default": "loopback"],
          ],
        ],
        "vars": ["type": "object"],
        "defaults": group,
        "groups": ["type": "object", "minProperties": 1, "propertyNames": name, "additionalProperties": group],
      ],
    ]
  }
}

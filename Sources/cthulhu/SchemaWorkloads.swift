import Manifest

/// `workloads:` in the manifest's JSON schema (docs/manifest.md, "workloads").
extension ManifestSchema {
  nonisolated(unsafe) static let workload: [String: Any] = [
    "type": "object", "additionalProperties": false, "required": ["generator"],
    "oneOf": [["required": ["client"]], ["required": ["command"]]],
    "properties": [
      "client": [
        "type": "object", "additionalProperties": false, "required": ["command"],
        "description": "one process per worker, speaking JSON Lines on stdin/stdout (README, \"Correctness runs\")",
        "properties": ["command": command],
      ],
      "command": command,
      "fail_codes": ["type": "array", "items": ["type": "integer", "minimum": 1, "maximum": 255]],
      "generator": ["enum": GeneratorKind.allCases.map(\.rawValue)],
      "keys": ["type": "integer", "minimum": 1, "maximum": 10000],
      "concurrency": ["type": "integer", "minimum": 1, "maximum": 1000, "default": 5],
      "rate": [
        "type": ["string", "number"], "pattern": "^[0-9.]+(/[smh])?$", "description": "operations per second across workers: 500/s, 30/m",
      ],
      "time_limit": duration, "final_wait": duration, "timeout": duration,
      "checker": ["type": "string", "description": "the model the history is checked against (default: the generator's)"],
      "mix": ["type": "object", "additionalProperties": ["type": "integer", "minimum": 0]],
    ],
    "dependencies": ["fail_codes": ["command"]],
  ]

  nonisolated(unsafe) static let workloads: [String: Any] = [
    "type": "object", "minProperties": 1, "propertyNames": name, "additionalProperties": workload,
    "description": "correctness runs for `cthulhu test`",
  ]
}

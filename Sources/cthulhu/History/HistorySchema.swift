/// The JSON Schema (draft-07) of one line of a history file (JSON Lines:
/// each line an object of this schema), beside the manifest's.
enum HistorySchema {
  nonisolated(unsafe) static let document: [String: Any] = [
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "cthulhu history event (one line of history.jsonl)",
    "description": "Jepsen's and elle-cli's JSON: one event a line, in the order observed. See docs/history.md.",
    "type": "object",
    "required": ["process", "type", "f"],
    "properties": [
      "process": [
        "oneOf": [["type": "integer", "minimum": 0], ["const": "nemesis"]],
        "description": "the client; at most one operation outstanding each (nemesis lines are ignored)",
      ],
      "type": [
        "enum": ["invoke", "ok", "fail", "info"],
        "description":
          "invoke: started; ok: took effect; fail: did not take effect; info: unknown (may take effect any time after the invoke, or never)",
      ],
      "f": ["type": "string", "description": "read, write, cas (register, cas-register); get, put, append (kv)"],
      "value": [
        "description": "the argument at invoke, the result at completion (a read's value); cas takes [expected, new]; kv values are strings"
      ],
      "key": ["type": ["string", "integer"], "description": "the key, for kv operations"],
      "time": ["type": "integer", "minimum": 0, "description": "nanoseconds on the host's CLOCK_MONOTONIC"],
    ],
    "allOf": [
      ["if": ["properties": ["f": ["const": "cas"]]], "then": ["properties": ["value": ["type": "array", "minItems": 2, "maxItems": 2]]]],
      ["if": ["properties": ["f": ["enum": ["get", "put", "append"]]]], "then": ["required": ["key"]]],
    ],
  ]
}

/// Which anomalies imply which, which consistency models imply which, and
/// which anomalies each model rules out: Elle's tables
/// (`jepsen-io/elle` `src/elle/consistency_model.clj`), read there and kept
/// as data here, with the same names.
public enum ConsistencyModels {
  /// a → b: an anomaly a is also an anomaly b (G0 is also G1c, …).
  static let impliedAnomalies: [String: [String]] = [
    "G0": ["G1c", "G0-process"], "G0-process": ["G1c-process", "G0-realtime"], "G0-realtime": ["G1c-realtime"],
    "G1a": ["G1"], "G1b": ["G1"], "G1c": ["G1", "G1c-process"],
    "G1c-process": ["G1c-realtime", "G1-process"], "G1c-realtime": ["G1-realtime"],
    "G1": ["G1-process"], "G1-process": ["G1-realtime"],
    "G-single-item": ["G-single", "G-single-item-process", "G-nonadjacent-item"],
    "G-single-item-process": ["G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"],
    "G-single-item-realtime": ["G-single-realtime", "G-nonadjacent-item-realtime"],
    "G-single": ["G-nonadjacent", "GSIb", "G-single-process"],
    "G-single-process": ["G-nonadjacent-process", "G-single-realtime"],
    "G-single-realtime": ["G-nonadjacent-realtime"],
    "G-nonadjacent-item": ["G-nonadjacent", "G2-item", "G-nonadjacent-item-process"],
    "G-nonadjacent-item-process": ["G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"],
    "G-nonadjacent-item-realtime": ["G2-item-realtime", "G-nonadjacent-realtime"],
    "G-nonadjacent": ["G2", "G-nonadjacent-process"],
    "G-nonadjacent-process": ["G2-process", "G-nonadjacent-realtime"],
    "G-nonadjacent-realtime": ["G2-realtime"],
    "G2": ["G2-process"], "G2-item": ["G2", "G2-item-process"],
    "G2-item-process": ["G2-process", "G2-item-realtime"], "G2-item-realtime": ["G2-realtime"],
    "G2-process": ["G2-realtime"],
    "GSIa": ["GSI"], "GSIb": ["GSI"],
    "incompatible-order": ["G1a"], "future-read": ["G1c"], "dirty-update": ["G1a"],
    "lost-update": ["write-skew", "G2-item"], "write-skew": ["G2"],
  ]

  /// Friendly model names → Elle's canonical ones.
  static let canonical: [String: String] = [
    "consistent-view": "PL-2+", "conflict-serializable": "PL-3", "cursor-stability": "PL-CS",
    "forward-consistent-view": "PL-FCV", "monotonic-snapshot-read": "PL-MSR", "monotonic-view": "PL-2L",
    "read-committed": "PL-2", "read-uncommitted": "PL-1", "repeatable-read": "PL-2.99",
    "serializable": "PL-3", "snapshot-isolation": "PL-SI", "strict-serializable": "PL-SS",
    "strong-serializable": "PL-SS", "update-serializable": "PL-3U",
    "strong-session-read-uncommitted": "strong-session-PL-1", "strong-session-read-committed": "strong-session-PL-2",
    "strong-read-uncommitted": "strong-PL-1", "strong-read-committed": "strong-PL-2",
  ]

  /// Canonical names → the friendly name reports use (PL-3 is serializable).
  static let friendly: [String: String] = {
    var out: [String: String] = [:]
    for (k, v) in canonical where v != "PL-3" && v != "PL-SS" { out[v] = k }
    out["PL-3"] = "serializable"
    out["PL-SS"] = "strict-serializable"
    return out
  }()

  /// a → b: a history that satisfies model a satisfies model b (canonical names).
  static let models: [String: [String]] = {
    let raw: [String: [String]] = [
      "causal-cerone": ["read-atomic"], "consistent-view": ["cursor-stability", "monotonic-view"],
      "conflict-serializable": ["view-serializable"], "cursor-stability": ["read-committed", "PL-2"],
      "forward-consistent-view": ["consistent-view"], "PL-2": ["PL-1"],
      "PL-3": ["repeatable-read", "update-serializable"], "update-serializable": ["forward-consistent-view"],
      "monotonic-atomic-view": ["read-committed"], "monotonic-view": ["PL-2"], "monotonic-snapshot-read": ["PL-2"],
      "parallel-snapshot-isolation": ["causal-cerone", "update-atomic"], "prefix": ["causal-cerone"],
      "read-atomic": ["monotonic-atomic-view"], "read-committed": ["read-uncommitted"],
      "repeatable-read": ["cursor-stability", "monotonic-atomic-view"], "update-atomic": ["read-atomic"],
      "serializable": ["repeatable-read", "snapshot-isolation", "view-serializable"],
      "session-serializable": ["1SR"],
      "snapshot-isolation": [
        "forward-consistent-view", "monotonic-atomic-view", "monotonic-snapshot-read", "parallel-snapshot-isolation", "prefix",
      ],
      "strict-serializable": [
        "PL-3", "serializable", "linearizable", "snapshot-isolation", "strong-snapshot-isolation", "strong-session-serializable",
      ],
      "strong-session-PL-1": ["PL-1"], "strong-session-PL-2": ["PL-2", "strong-session-PL-1"],
      "strong-PL-1": ["strong-session-PL-1"], "strong-PL-2": ["strong-session-PL-2", "strong-PL-1"],
      "strong-session-serializable": ["serializable", "strong-session-snapshot-isolation"],
      "strong-session-snapshot-isolation": ["snapshot-isolation", "strong-session-PL-2"],
      "strong-serializable": ["session-serializable"],
      "strong-snapshot-isolation": ["strong-session-snapshot-isolation", "strong-PL-2"],
      "linearizable": ["sequential"], "sequential": ["causal"], "causal": ["writes-follow-reads", "PRAM"],
      "PRAM": ["monotonic-reads", "monotonic-writes", "read-your-writes"],
    ]
    var out: [String: [String]] = [:]
    for (k, vs) in raw { out[name(k), default: []].append(contentsOf: vs.map(name)) }
    return out
  }()

  /// The anomalies each (canonical) model rules out directly, beyond the models it implies.
  static let proscribed: [String: [String]] = {
    let raw: [String: [String]] = [
      "causal-cerone": ["internal", "G1a"], "cursor-stability": ["G1", "G-cursor", "lost-update"],
      "monotonic-view": ["G1", "G-monotonic"], "monotonic-snapshot-read": ["G1", "G-MSR"],
      "consistent-view": ["G1", "G-single"], "forward-consistent-view": ["G1", "G-SIb"],
      "parallel-snapshot-isolation": ["internal", "G1a"],
      "PL-3": ["G1", "G2", "predicate-read-miss", "PL-3-cycle-exists"], "PL-2": ["G1", "PL-2-cycle-exists"],
      "PL-1": ["G0", "duplicate-elements", "cyclic-versions", "PL-1-cycle-exists"], "prefix": ["internal", "G1a"],
      "serializable": ["internal"],
      "snapshot-isolation": ["internal", "G1", "G-SI", "G-nonadjacent", "PL-SI-cycle-exists"],
      "read-atomic": ["internal", "G1a", "future-read"],
      "repeatable-read": ["G1", "G2-item", "PL-2.99-cycle-exists", "lost-update"], "update-atomic": ["lost-update"],
      "strict-serializable": ["G1", "G1c-realtime", "G2-realtime", "PL-SS-cycle-exists"],
      "strong-session-PL-1": ["strong-session-PL-1-cycle-exists", "G0-process"],
      "strong-session-PL-2": ["strong-session-PL-2-cycle-exists", "G1c-process"],
      "strong-PL-1": ["strong-PL-1-cycle-exists", "G0-realtime"], "strong-PL-2": ["strong-PL-2-cycle-exists", "G1c-realtime"],
      "strong-session-snapshot-isolation": [
        "internal", "G1-process", "G-nonadjacent-process", "strong-session-snapshot-isolation-cycle-exists",
      ],
      "strong-snapshot-isolation": ["internal", "G1-realtime", "G-nonadjacent-realtime", "strong-snapshot-isolation-cycle-exists"],
      "strong-session-serializable": ["G1-process", "G2-process", "strong-session-serializable-cycle-exists"],
      "update-serializable": ["G1", "G-update"],
    ]
    var out: [String: [String]] = [:]
    for (k, vs) in raw { out[name(k), default: []].append(contentsOf: vs) }
    return out
  }()

  /// A model's canonical name.
  public static func name(_ model: String) -> String { canonical[model] ?? model }

  /// A model's name as reports give it.
  public static func friendlyName(_ model: String) -> String { friendly[model] ?? model }

  /// Every model Elle knows (friendly and canonical names).
  public static let all: Set<String> = {
    var s = Set(models.keys).union(models.values.joined())
    s.formUnion(canonical.keys)
    s.formUnion(canonical.values)
    return s
  }()

  /// Everything reachable from `start` along `edges`, `start` included.
  static func closure(_ start: some Sequence<String>, _ edges: [String: [String]]) -> Set<String> {
    var seen = Set(start)
    var todo = Array(seen)
    while let x = todo.popLast() {
      for y in edges[x] ?? [] where seen.insert(y).inserted { todo.append(y) }
    }
    return seen
  }

  static func reversed(_ edges: [String: [String]]) -> [String: [String]] {
    var out: [String: [String]] = [:]
    for (a, bs) in edges { for b in bs { out[b, default: []].append(a) } }
    return out
  }

  static let anomaliesImplying = reversed(impliedAnomalies)
  static let modelsImplying = reversed(models)
  static let proscribing = reversed(proscribed)

  /// The anomalies that must be absent for all of `models` to hold
  /// (Elle's `anomalies-prohibited-by`), and any anomaly implying one of them.
  public static func prohibited(by models: [String]) -> Set<String> {
    let held = closure(models.map(name), Self.models)
    return closure(held.flatMap { proscribed[$0] ?? [] }, anomaliesImplying)
  }

  /// `anomalies` and every anomaly that would imply one of them.
  public static func implying(_ anomalies: [String]) -> Set<String> { closure(anomalies, anomaliesImplying) }

  /// The models the anomalies rule out, and every stronger model (canonical names).
  public static func impossibleModels(_ anomalies: some Sequence<String>) -> Set<String> {
    let implied = closure(anomalies, impliedAnomalies)
    return closure(implied.flatMap { proscribing[$0] ?? [] }, modelsImplying)
  }

  /// Elle's boundary: the weakest ruled-out models (`not`) and the rest
  /// (`alsoNot`), in friendly names, sorted.
  public static func boundary(_ anomalies: some Sequence<String>) -> (not: [String], alsoNot: [String]) {
    let impossible = impossibleModels(anomalies)
    // A model is among the weakest when no other impossible model is implied by it.
    let weakest = impossible.filter { m in closure([m], models).subtracting([m]).isDisjoint(with: impossible) }
    return (
      Set(weakest.map(friendlyName)).sorted(),
      Set(impossible.subtracting(weakest).map(friendlyName)).sorted()
    )
  }
}

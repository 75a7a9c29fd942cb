/// `workloads.<name>`: a correctness run against the fixture, as
/// `cthulhu test` runs it. Clients (in any language) are driven by a
/// generator of operations for a model, at a rate, for a time limit, while
/// the manifest's nemesis breaks things; then everything is healed, the
/// final reads run, and the history is checked against `checker`.
///
/// Not part of the topology: it changes no plan, and `==` on ``Manifest``
/// leaves it out.
public struct Workload: Sendable, Hashable {
  /// The workload's name: `[a-z0-9][a-z0-9-]*`, at most 40 characters.
  public var name: String
  /// Where its name stands in the manifest.
  public var location: SourceLocation
  public var client: WorkloadClient
  public var generator: GeneratorKind
  /// Keys (registers, lists, accounts) the operations spread over, where
  /// the model has them (kv, list-append, bank); 1 elsewhere.
  public var keys: Int
  /// Workers: client processes with one operation in flight each.
  public var concurrency: Int
  /// Operations per second across all workers; nil: as fast as they answer.
  public var rate: Double?
  /// How long operations are generated (the nemesis runs meanwhile).
  public var timeLimit: Duration
  /// Wait between the heal and the final reads, for the system to recover.
  public var finalWait: Duration
  /// The model the history is checked against (any model of `cthulhu check`):
  /// a name, so models added to the checker need nothing here.
  public var checker: String
  /// No answer within this long: the operation is recorded as `info`
  /// (unknown outcome) and the worker's client is restarted.
  public var timeout: Duration
  /// Weights of the generator's operations by `f` (`{ read: 1, write: 3 }`);
  /// empty: the generator's own mix.
  public var mix: [String: Int]
  /// bank: the sum of the balances the system starts with, which every
  /// read must show; nil: the first read's sum.
  public var total: Int64?

  public init(
    name: String, location: SourceLocation = .unknown, client: WorkloadClient,
    generator: GeneratorKind, keys: Int = 1, concurrency: Int = 5, rate: Double? = nil, timeLimit: Duration = .seconds(30),
    finalWait: Duration = .seconds(5), checker: String? = nil, timeout: Duration = .seconds(5), mix: [String: Int] = [:], total: Int64? = nil
  ) {
    self.name = name
    self.location = location
    self.client = client
    self.generator = generator
    self.keys = keys
    self.concurrency = concurrency
    self.rate = rate
    self.timeLimit = timeLimit
    self.finalWait = finalWait
    self.checker = checker ?? generator.defaultChecker
    self.timeout = timeout
    self.mix = mix
    self.total = total
  }
}

extension Workload {
  /// `500/s`, `30/m`, `2/h`, or a plain number (per second) → operations per second; nil when malformed.
  public static func rate(_ text: String) -> Double? {
    let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).filter { $0 != " " } }
    guard let first = parts.first, let n = Double(first), n.isFinite, n > 0 else { return nil }
    guard parts.count == 2 else { return n }
    switch parts[1] {
    case "s": return n
    case "m": return n / 60
    case "h": return n / 3600
    default: return nil
    }
  }
}

/// How operations reach the system under test.
public enum WorkloadClient: Sendable, Hashable {
  /// `client: { command: [...] }`: one long-lived process per worker that
  /// reads a JSON request a line on its stdin and answers each with one
  /// JSON line on its stdout (README, "Correctness runs").
  case process(command: [String])
  /// `command: [...]`: one process per operation (`cthulhu op`'s
  /// semantics): the request in `CTHULHU_OP` (JSON), exit 0 ok (a read's
  /// value is its output), an exit code in `failCodes` fail, anything else
  /// info.
  case perOperation(command: [String], failCodes: Set<Int32>)

  public var command: [String] {
    switch self {
    case .process(let c), .perOperation(let c, _): c
    }
  }
}

/// The generators of operations, one per model the checkers know.
public enum GeneratorKind: String, Sendable, Hashable, Codable, CaseIterable {
  /// One register: read, write (small integers).
  case register
  /// One register: read, write, cas (`[expected, new]`).
  case casRegister = "cas-register"
  /// Registers by key: get, put (`key`, string values).
  case kv
  /// Unique integer adds; a final read of the whole set.
  case set
  /// Elle's transactions of 1–4 micro-operations, appends of unique values
  /// per key, each key retired after a number of appends.
  case listAppend = "list-append"
  /// Transfers between accounts, reads of every balance.
  case bank
  /// Adds of small positive integers, reads.
  case counter

  /// The checker's model when the workload names none.
  public var defaultChecker: String {
    switch self {
    case .register: "register"
    case .casRegister: "cas-register"
    case .kv: "kv"
    case .set: "set-full"
    case .listAppend: "list-append"
    case .bank: "bank"
    case .counter: "counter"
    }
  }

  /// The operations it makes (what `mix` may weigh).
  public var operations: [String] {
    switch self {
    case .register: ["read", "write"]
    case .casRegister: ["read", "write", "cas"]
    case .kv: ["get", "put"]
    case .set: ["add", "read"]
    case .listAppend: ["txn"]
    case .bank: ["transfer", "read"]
    case .counter: ["add", "read"]
    }
  }

  /// Whether `keys` means something for it.
  public var hasKeys: Bool { self == .kv || self == .listAppend || self == .bank }
}

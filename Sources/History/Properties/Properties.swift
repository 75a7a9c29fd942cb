import Foundation

/// Properties the system under test states about itself, as Antithesis's
/// SDK has them, in a file any language can write: every instance and
/// client gets `CTHULHU_ASSERTIONS`, a path to append JSON lines to,
///
///     {"assert": "always", "id": "one leader per term", "condition": true, "details": {"term": 4}}
///
/// one line per time the program passes the assertion. `assert` is
/// `always` (the condition holds every time), `sometimes` (it holds at
/// least once in the run), `reachable` (the line is reached at least once)
/// or `unreachable` (it is never reached). A line with `"hit": false`
/// declares a property without passing it (at start, so that a `sometimes`
/// never reached is known to have failed). The writer opens the file with
/// O_APPEND and writes each line with one write of under 4 KiB, so lines of
/// concurrent writers never interleave.
///
/// A property is keyed by its `assert` and `id`; the same id under two
/// kinds is two properties.
public struct PropertyLedger: Sendable {
  /// The kinds of assertion.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    case always, sometimes, reachable, unreachable
  }

  /// One property, evaluated over the run.
  public struct Property: Sendable, Hashable, Codable {
    public var id: String
    public var assert: Kind
    /// Times it was passed (lines with `hit` not false).
    public var hits: Int
    /// Of those, how many had `condition` true, and false.
    public var trueCount: Int
    public var falseCount: Int
    public var passed: Bool
    /// Why it failed, for people: `seen false 3 times (first: file:line)`.
    public var reason: String?
    /// The details of the first hit that failed it (else of the first hit).
    public var details: HistoryValue?
    /// Where that line is: `path:line`.
    public var at: String?
  }

  /// A line that is not an assertion, with where it is.
  public struct Problem: Sendable, Hashable, Codable {
    public var at: String
    public var message: String
  }

  var table: [Key: Property] = [:]
  var order: [Key] = []
  /// At most ``problemsKept`` of the lines that were not assertions.
  public private(set) var problems: [Problem] = []
  public private(set) var problemCount = 0
  static let problemsKept = 20

  struct Key: Hashable {
    var kind: Kind
    var id: String
  }

  public init() {}

  /// The properties of every file of `paths` that exists (a missing file is
  /// a program that stated nothing). `since` gives, per path, the size the
  /// file had when the run began: the lines before it only declare their
  /// properties (a program states its properties at start, perhaps long
  /// before the run), their hits are another run's.
  public static func read(_ paths: [String], since: [String: Int] = [:]) throws -> PropertyLedger {
    var ledger = PropertyLedger()
    for p in paths where FileManager.default.fileExists(atPath: p) {
      guard let data = FileManager.default.contents(atPath: p) else {
        throw HistoryError(file: p, problems: [.init(line: 0, message: "the assertions file cannot be read")])
      }
      ledger.add(data, source: p, hitsFrom: since[p] ?? 0)
    }
    return ledger
  }

  /// The size of each file of `paths` now (0 when absent): `since` for ``read(_:since:)``.
  public static func sizes(_ paths: [String]) -> [String: Int] {
    var out: [String: Int] = [:]
    for p in paths {
      var st = stat()
      out[p] = stat(p, &st) == 0 ? Int(st.st_size) : 0
    }
    return out
  }

  /// Adds the lines of `data` (from `source`, named in problems); the lines
  /// that end before byte `hitsFrom` only declare. A last line without its
  /// newline (a writer killed mid-line) is skipped.
  public mutating func add(_ data: Data, source: String, hitsFrom: Int = 0) {
    var lineNumber = 0
    var slice = data[...]
    while !slice.isEmpty {
      lineNumber += 1
      guard let nl = slice.firstIndex(of: 0x0A) else { break }
      let line = slice[slice.startIndex..<nl]
      slice = slice[(nl + 1)...]
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
      let value = line.withUnsafeBytes { JSONReader.parse($0.bindMemory(to: UInt8.self)) }
      add(value, at: "\(source):\(lineNumber)", declareOnly: nl - data.startIndex < hitsFrom)
    }
  }

  mutating func add(_ value: HistoryValue?, at: String, declareOnly: Bool = false) {
    guard case .object(let o)? = value else { return problem(at, "not a JSON object") }
    guard case .string(let k)? = o["assert"], let kind = Kind(rawValue: k) else {
      return problem(at, "'assert' must be one of always, sometimes, reachable, unreachable")
    }
    guard case .string(let id)? = o["id"], !id.isEmpty else { return problem(at, "'id' must be a non-empty string") }
    var hit = !declareOnly
    if let h = o["hit"] {
      guard case .bool(let b) = h else { return problem(at, "'hit' must be true or false") }
      hit = hit && b
    }
    var condition = true
    if let c = o["condition"], c != .null {
      guard case .bool(let b) = c else { return problem(at, "'condition' must be true or false") }
      condition = b
    } else if kind == .always || kind == .sometimes, hit {
      return problem(at, "an '\(kind.rawValue)' assertion needs 'condition': true or false")
    }
    let key = Key(kind: kind, id: id)
    if table[key] == nil {
      order.append(key)
      table[key] = Property(id: id, assert: kind, hits: 0, trueCount: 0, falseCount: 0, passed: true)
    }
    guard hit else { return }
    var p = table[key]!
    p.hits += 1
    if condition { p.trueCount += 1 } else { p.falseCount += 1 }
    // The first line that fails it is kept; until then, the first hit.
    let failsHere = (kind == .always && !condition) || kind == .unreachable
    let failedBefore = (kind == .always && p.falseCount > 1) || (kind == .unreachable && p.hits > 1)
    if p.at == nil || (failsHere && !failedBefore) {
      p.at = at
      p.details = o["details"]
    }
    table[key] = p
  }

  mutating func problem(_ at: String, _ message: String) {
    problemCount += 1
    if problems.count < Self.problemsKept { problems.append(Problem(at: at, message: message)) }
  }

  /// Every property with its verdict, in the order first seen: an `always`
  /// seen false, an `unreachable` reached, a `sometimes` never true or a
  /// `reachable` never reached fails.
  public var properties: [Property] {
    order.map { key in
      var p = table[key]!
      switch p.assert {
      case .always where p.falseCount > 0:
        p.reason = "seen false \(p.falseCount) of \(p.hits) time\(p.hits == 1 ? "" : "s") (first at \(p.at ?? "?"))"
      case .unreachable where p.hits > 0:
        p.reason = "reached \(p.hits) time\(p.hits == 1 ? "" : "s") (first at \(p.at ?? "?"))"
      case .sometimes where p.trueCount == 0:
        p.reason = p.hits == 0 ? "never reached" : "never true in \(p.hits) hit\(p.hits == 1 ? "" : "s")"
      case .reachable where p.hits == 0:
        p.reason = "never reached"
      default:
        break
      }
      p.passed = p.reason == nil
      return p
    }
  }

  /// Every property passed (true with none).
  public var allPassed: Bool { properties.allSatisfy(\.passed) }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

/// What every fault command takes: the fixture and `--for`.
struct FaultOptions: ParsableArguments {
  @OptionGroup var locator: FixtureLocator
  @Option(name: .customLong("for"), help: ArgumentHelp("Lift the fault by itself after this long (500ms, 30s, 2m).", valueName: "duration"))
  var lasting: String?

  func duration() throws -> Duration? {
    guard let lasting else { return nil }
    guard let d = Units.duration(lasting), d > .zero else {
      throw ValidationError("--for takes a duration such as 500ms, 30s, 2m or 1h (got '\(lasting)').")
    }
    return d
  }

  /// Loads the fixture (a manifest among `arguments` may name it), turns the
  /// rest of the arguments into a request, injects it and prints the fault made.
  func inject(
    _ arguments: [String], empty: [String] = ["all"], _ request: @escaping @Sendable (FixtureState, [String]) throws -> FaultRequest
  ) async throws {
    let (target, arguments) = try locator.target(instances: arguments, empty: empty)
    let root = target.root
    let lasting = try duration()
    try await failing {
      let state = try FixtureState.require(root: root)
      let req = try request(state, arguments)
      let f = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).inject(req, root: root, lasting: lasting) }
      Output.out("\(f.id): \(f.summary)" + (f.expiresAt.map { " (until \(Clock.format($0)))" } ?? "") + "\n")
    }
  }
}

enum Clock {
  static func format(_ d: Date) -> String {
    let f = DateFormatter()
    f.dateFormat = "HH:mm:ss"
    return f.string(from: d)
  }
}

extension Cthulhu {
  struct Partition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Cut the network between sets of instances (both ways); the rest are untouched.",
      discussion: """
        Each argument is one set (names, globs, groups, comma lists): `partition i001 i002,i003`.
        Or a shape over the instances given (all by default), as Jepsen's nemeses make them:
          --halves            the first half against the rest
          --majority          a minority of ⌊(n-1)/2⌋ against a strict majority
          --majorities-ring   each instance sees a majority, no two the same one
          --bridge            two halves, and one instance between them that sees both
        --random shuffles the instances first (alone: random halves); --seed repeats a shuffle.
        Packets are dropped on arrival inside each instance's network namespace, so
        senders see a silent network, as in a real partition.
        """)

    @OptionGroup var options: FaultOptions
    @Flag(help: "First half against the rest.") var halves = false
    @Flag(help: "A minority against a strict majority.") var majority = false
    @Flag(name: .customLong("majorities-ring"), help: "Every instance sees a different majority.") var majoritiesRing = false
    @Flag(help: "Two halves joined through one instance.") var bridge = false
    @Flag(help: "Shuffle the instances before shaping (alone: random halves).") var random = false
    @Option(help: "Seed for --random, to repeat a shuffle.") var seed: UInt64?
    @Argument(help: "Sets of instances (with a shape: the instances to shape; default all).") var sets: [String] = []

    func validate() throws {
      let shapes = [halves, majority, majoritiesRing, bridge].filter { $0 }.count
      if shapes > 1 { throw ValidationError("Please pick one shape of --halves, --majority, --majorities-ring, --bridge.") }
      if shapes == 0 && !random && sets.count < 2 {
        throw ValidationError("Please give at least two sets (e.g. `partition i001 i002,i003`) or a shape such as --halves.")
      }
      if seed != nil && !random { throw ValidationError("--seed only makes sense with --random.") }
    }

    func run() async throws {
      let shape: PartitionShape? =
        halves ? .halves : majority ? .majority : majoritiesRing ? .majoritiesRing : bridge ? .bridge : random ? .halves : nil
      let (random, seed) = (self.random, self.seed)
      try await options.inject(self.sets, empty: []) { state, sets in
        guard let shape else { return .partition(sets: try sets.map { try Targets.resolve([$0], in: state) }) }
        var names = try Targets.resolve(sets.isEmpty ? ["all"] : sets, in: state)
        if random {
          var g = SeededGenerator(seed: seed ?? UInt64.random(in: 0...UInt64.max))
          names.shuffle(using: &g)
        }
        return .shaped(shape, names: names)
      }
    }
  }

  struct Isolate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Cut instances off the network entirely (everything but loopback, both ways).")
    @OptionGroup var options: FaultOptions
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      try await options.inject(targets) { .isolate(try Targets.resolve($1, in: $0)) }
    }
  }

  struct Loss: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Drop a share of the packets arriving at instances (iptables statistic).",
      usage: "cthulhu loss PERCENT TARGETS… [--for DURATION]")
    @OptionGroup var options: FaultOptions
    @Argument(help: "Percent of packets to drop, 0 to 100 (30 or 30%).") var percent: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      guard let p = Double(percent.hasSuffix("%") ? String(percent.dropLast()) : percent), p >= 0, p <= 100 else {
        throw ValidationError("Please give the loss as a percentage from 0 to 100, e.g. 30 or 30% (got '\(percent)').")
      }
      try await options.inject(targets) { .loss(percent: p, try Targets.resolve($1, in: $0)) }
    }
  }

  struct Rate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Limit the bandwidth instances send at (tc tbf on their interface).",
      usage: "cthulhu rate RATE TARGETS… [--for DURATION]")
    @OptionGroup var options: FaultOptions
    @Argument(help: "A rate as tc writes it: 512kbit, 10mbit, 1gbit; bytes: 64kbps, 1mbps.") var rate: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      guard let bits = Fault.parseRate(rate) else {
        throw ValidationError("Please give a rate such as 512kbit, 10mbit, 1gbit (bits) or 64kbps, 1mbps (bytes) (got '\(rate)').")
      }
      try await options.inject(targets) { .rate(bitsPerSecond: bits, try Targets.resolve($1, in: $0)) }
    }
  }

  struct Delay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Delay the packets instances send (tc netem; needs the kernel's sch_netem).",
      usage: "cthulhu delay DURATION [--jitter DURATION] TARGETS… [--for DURATION]")
    @OptionGroup var options: FaultOptions
    @Option(help: "Random variation around the delay (normal distribution).") var jitter: String?
    @Argument(help: "The delay: 100ms, 1s.") var delay: String
    @Argument(help: "Instances: names, globs, groups, all, or comma lists.") var targets: [String]
    func run() async throws {
      guard let ms = Fault.milliseconds(delay), ms > 0 else { throw ValidationError("Please give the delay as a duration such as 100ms or 1s (got '\(delay)').") }
      var j: Double?
      if let jitter {
        guard let v = Fault.milliseconds(jitter) else { throw ValidationError("Please give --jitter as a duration such as 20ms (got '\(jitter)').") }
        j = v
      }
      let jit = j
      try await options.inject(targets) { .delay(milliseconds: ms, jitter: jit, try Targets.resolve($1, in: $0)) }
    }
  }

  struct Heal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Lift faults: every fault, or those on the instances given.")
    @OptionGroup var locator: FixtureLocator
    @Argument(help: "Instances to heal (default: all faults).") var targets: [String] = []
    func run() async throws {
      let (target, targets) = try locator.target(instances: self.targets, empty: [])
      let root = target.root
      try await failing {
        let state = try FixtureState.require(root: root)
        let names = targets.isEmpty ? nil : try Targets.resolve(targets, in: state)
        let before = try FaultBook.load(root: root).faults
        _ = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).heal(root: root, names: names) }
        let after = try FaultBook.load(root: root).faults
        let lifted = before.filter { f in !after.contains { $0.id == f.id } }
        Output.out(lifted.isEmpty && before == after ? "Nothing to heal.\n" : "healed" + (names.map { " " + $0.joined(separator: ",") } ?? "") + (lifted.isEmpty ? "" : "; lifted " + lifted.map(\.id).joined(separator: " ")) + "\n")
      }
    }
  }

  struct Faults: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the faults in force.")
    @Argument(help: "The manifest (default: the current folder's fixture).") var manifest: String?
    @OptionGroup var locator: FixtureLocator
    @Flag(help: "Print JSON.") var json = false
    func run() async throws {
      let root = try locator.root(positional: manifest)
      try await failing {
        let state = try FixtureState.require(root: root)
        // A reaper may have been killed: lift what has run out before listing.
        if try !FaultBook.load(root: root).faults.filter({ ($0.expiresAt ?? .distantFuture) <= Date() }).isEmpty {
          _ = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).liftExpired(root: root) }
        }
        let faults = try FaultBook.load(root: root).faults
        if json {
          let e = JSONEncoder()
          e.outputFormatting = [.prettyPrinted, .sortedKeys]
          e.dateEncodingStrategy = .iso8601
          Output.out(String(decoding: try e.encode(faults), as: UTF8.self) + "\n")
          return
        }
        if faults.isEmpty { Output.out("No faults.\n"); return }
        var table = [["ID", "KIND", "SINCE", "UNTIL", "WHAT"]]
        for f in faults {
          table.append([f.id, f.kind.rawValue, Clock.format(f.createdAt), f.expiresAt.map(Clock.format) ?? "-", f.summary])
        }
        Output.table(table)
      }
    }
  }

  /// The detached process behind `--for` and `apply --ttl`: waits, then lifts
  /// the faults that have run out, or destroys the fixture whose time is up.
  struct Reap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_reap", shouldDisplay: false)
    @Option var fixture: String
    @Option(help: "Seconds since 1970 when the fault or the fixture expires.") var at: Double
    @Flag(help: "Destroy the fixture (apply --ttl) instead of lifting faults.") var destroy = false
    func run() async throws {
      let wait = at - Date().timeIntervalSince1970
      if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1)) }
      guard let state = try FixtureState.load(root: fixture) else { return }
      if destroy {
        // A later apply started its own reaper for a later expiry: stand down.
        guard state.ttlReaperPID == getpid(), state.expiresAt != nil else { return }
        try await failing {
          // Wait for an apply in progress rather than fail.
          let deadline = Date().addingTimeInterval(300)
          while true {
            do {
              let r = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).destroy(root: fixture) }
              Output.out("ttl: destroyed fixture '\(r.fixture)' (\(r.containers.count) instance(s))\n")
              return
            } catch let e as OrchestratorError where e.code == .locked && Date() < deadline {
              try await Task.sleep(for: .seconds(1))
              guard let s = try FixtureState.load(root: fixture), s.ttlReaperPID == getpid() else { return }
            }
          }
        }
        return
      }
      try await failing {
        _ = try await Input.withDriver(state.driver) { try await FixtureController(driver: $0).liftExpired(root: fixture) }
      }
    }
  }
}

import Foundation

/// Decodes `nemesis:` once the groups are known, so that every target can be
/// checked against the instances the manifest makes (named `i001`, `i002`, …
/// in group order, as a fresh apply names them) and every problem is
/// reported at the node that has to change.
struct NemesisDecoder {
  let reader: Reader
  let driver: DriverKind
  let network: NetworkSettings
  /// Every instance of the manifest, in order, with its group.
  let instances: [(name: String, group: String)]
  /// The groups that say `clock_skew: true` (their instances' clocks can move).
  var clockGroups: Set<String> = []
  /// The groups with a mount that says `faults: true` (a crash loses what they did not sync).
  var diskGroups: Set<String> = []
  /// The groups that say `membership:`, with their counts (what `grow` and `shrink` may change).
  var membershipGroups: [String: Int] = [:]
  /// Every group's name (for messages).
  var groupNames: [String] = []
  /// The manifest's folder: a targets command's `./` path is made absolute against it, and it runs there.
  var directory = FileManager.default.currentDirectoryPath

  static let keys = ["seed", "faults"]
  static let kinds = [
    "partition", "isolate", "loss", "duplicate", "rate", "delay", "kill", "crash", "pause", "stop", "clock", "disk_error", "disk_delay",
    "grow", "shrink",
  ]
  static let entryKeys =
    kinds + ["targets", "after", "for", "every", "times", "jitter", "distribution", "reorder", "signal", "torn", "min", "max"] + diskKeys

  /// `30`, `30%`, `12.5` → percent from 0 to 100; nil for anything else.
  static func percent(_ node: YAMLNode) -> Double? {
    guard case .scalar = node.kind, let s = node.scalar else { return nil }
    return Units.percent(s)
  }

  /// `+5s`, `-250ms`, `2h` → seconds; nil for anything else (or zero).
  static func skew(_ text: String) -> Double? {
    var t = Substring(text.trimmingCharacters(in: .whitespaces))
    var sign = 1.0
    if t.first == "+" || t.first == "-" {
      sign = t.first == "-" ? -1 : 1
      t = t.dropFirst()
    }
    guard let d = Units.duration(String(t)), d > .zero else { return nil }
    return sign * d.seconds
  }

  /// Whether a crash of the instance can lose writes: its group has a mount with faults.
  func crashable(_ name: String) -> Bool {
    instances.first { $0.name == name }.map { diskGroups.contains($0.group) } ?? false
  }

  /// The instances of `groups`, named as a fresh apply names them.
  static func instances(of groups: [Group]) -> [(name: String, group: String)] {
    var out: [(String, String)] = []
    for g in groups {
      for _ in 0..<g.count {
        let n = out.count + 1
        out.append((n < 1000 ? "i" + String(repeating: "0", count: 3 - String(n).count) + String(n) : "i\(n)", g.name))
      }
    }
    return out
  }

  func decode(_ node: YAMLNode) -> NemesisSchedule? {
    guard let m = reader.mapping(node, "'nemesis'", allowed: Self.keys) else { return nil }
    var schedule = NemesisSchedule(faults: [])
    var sawFaults = false
    var ok = true
    for (k, _, v) in m {
      switch k {
      case "seed":
        guard case .scalar(let s, true) = v.kind, let seed = UInt64(s) else {
          reader.error(v.location, "'nemesis.seed' must be a whole number from 0 to \(UInt64.max), not \(v.scalar.map { "'\($0)'" } ?? v.kindName)")
          ok = false
          continue
        }
        schedule.seed = seed
      default:
        sawFaults = true
        guard case .sequence(let items) = v.kind, !items.isEmpty else {
          reader.error(v.location, "'nemesis.faults' must be a list of at least one fault, not \(v.kindName)")
          ok = false
          continue
        }
        for (i, item) in items.enumerated() {
          if let f = entry(item, index: i + 1) { schedule.faults.append(f) } else { ok = false }
        }
      }
    }
    if !sawFaults {
      reader.error(node.location, "'nemesis' needs 'faults': a list such as - { partition: majority, for: 5s, every: 15s }")
      return nil
    }
    return ok ? schedule : nil
  }

  /// One entry of `nemesis.faults`; nil (with diagnostics) when it is wrong.
  func entry(_ node: YAMLNode, index: Int) -> NemesisFault? {
    let what = "nemesis fault \(index)"
    guard let pairs = reader.mapping(node, what, allowed: Self.entryKeys) else { return nil }
    var fields: [String: (key: YAMLNode, value: YAMLNode)] = [:]
    for (k, kn, v) in pairs { fields[k] = (kn, v) }
    let kinds = Self.kinds.filter { fields[$0] != nil }
    guard kinds.count == 1, let kind = kinds.first, let (kindKey, kindValue) = fields[kind] else {
      if kinds.isEmpty {
        reader.error(node.location, "\(what) names no fault: give one of \(Self.kinds.joined(separator: ", "))")
      } else {
        reader.error(fields[kinds[1]]!.key.location, "\(what) names two faults ('\(kinds[0])' and '\(kinds[1])'); give each its own entry")
      }
      return nil
    }
    var ok = true
    func fail(_ at: YAMLNode, _ message: String) {
      reader.error(at.location, message)
      ok = false
    }
    // What only some kinds take.
    let only: [(String, [String])] =
      [
        ("jitter", ["delay"]), ("distribution", ["delay"]), ("reorder", ["delay"]), ("signal", ["kill"]), ("torn", ["crash"]),
        ("min", ["shrink"]), ("max", ["grow"]),
      ] + Self.diskKeys.map { ($0, ["disk_error", "disk_delay"]) }
    for (key, kinds) in only where fields[key] != nil && !kinds.contains(kind) {
      fail(fields[key]!.key, "'\(key)' is for \(kinds.joined(separator: ", ")), not \(kind)")
    }
    if kind == "grow" || kind == "shrink" {
      let change = membershipEntry(node, kind: kind, fields: fields, what: what)
      return ok ? change : nil
    }

    var action: NemesisFault.Action?
    // isolate, kill, crash, pause and stop take their targets as their value; the
    // others take a parameter, and their targets in 'targets' (default all).
    var targetsNode: YAMLNode? = fields["targets"]?.value
    switch kind {
    case "partition":
      if let s = reader.string(kindValue, "'partition'") {
        if let shape = NemesisFault.PartitionShapeName(rawValue: s) {
          action = .partition(shape)
        } else {
          var m = "unknown partition shape '\(s)'; use halves, majority, majorities-ring, bridge or cut"
          if let sug = Suggest.closest(to: s, in: NemesisFault.PartitionShapeName.allCases.map(\.rawValue)) { m += " (did you mean '\(sug)'?)" }
          fail(kindValue, m)
        }
      } else {
        ok = false
      }
    case "loss":
      let text = kindValue.scalar.map { $0.hasSuffix("%") ? String($0.dropLast()) : $0 }
      if case .scalar = kindValue.kind, let t = text, let p = Double(t), p.isFinite, p >= 0, p <= 100 {
        action = .loss(percent: p)
      } else {
        fail(
          kindValue, "'loss' must be a percentage from 0 to 100 such as 30 or 30%, not \(kindValue.scalar.map { "'\($0)'" } ?? kindValue.kindName)")
      }
    case "duplicate":
      if let p = Self.percent(kindValue) {
        action = .duplicate(percent: p)
      } else {
        fail(
          kindValue,
          "'duplicate' must be a percentage from 0 to 100 such as 30 or 30%, not \(kindValue.scalar.map { "'\($0)'" } ?? kindValue.kindName)")
      }
    case "rate":
      if let s = kindValue.scalar, let bits = Units.bitRate(s) {
        action = .rate(bitsPerSecond: bits)
      } else {
        fail(kindValue, "'rate' must be a rate such as 512kbit, 10mbit or 1mbps, not \(kindValue.scalar.map { "'\($0)'" } ?? kindValue.kindName)")
      }
    case "delay":
      let delay = reader.duration(kindValue, "'delay'")
      var jitter: Duration?
      if let j = fields["jitter"] {
        jitter = reader.duration(j.value, "'jitter'")
        if jitter == nil { ok = false }
      }
      var distribution: String?
      if let d = fields["distribution"], let s = reader.string(d.value, "'distribution'") {
        if s == "uniform" || s == "normal" {
          distribution = s == "uniform" ? "uniform" : nil
          if jitter == nil { fail(d.key, "'distribution' spreads the jitter: give 'jitter' too") }
        } else {
          fail(d.value, "unknown distribution '\(s)'; use normal or uniform")
        }
      }
      var reorder: Double?
      if let r = fields["reorder"] {
        if let p = Self.percent(r.value) {
          reorder = p
        } else {
          fail(
            r.value, "'reorder' must be a percentage from 0 to 100 such as 25 or 25%, not \(r.value.scalar.map { "'\($0)'" } ?? r.value.kindName)")
        }
      }
      if let delay {
        if delay <= .zero || delay >= .seconds(3600) {
          fail(kindValue, "'delay' must be more than 0 and less than 1h")
        } else {
          action = .delay(
            milliseconds: delay.milliseconds, jitterMilliseconds: jitter?.milliseconds, distribution: distribution, reorderPercent: reorder)
        }
      } else {
        ok = false
      }
    case "clock":
      if let text = kindValue.scalar, case .scalar = kindValue.kind, let seconds = Self.skew(text) {
        action = .clock(skewSeconds: seconds)
      } else {
        fail(kindValue, "'clock' must be an offset such as +5s, -250ms or +2h, not \(kindValue.scalar.map { "'\($0)'" } ?? kindValue.kindName)")
      }
    case "disk_error", "disk_delay":
      action = diskRule(kind, kindValue, fields)
      if action == nil { ok = false }
    default:  // isolate, kill, crash, pause, stop
      if let t = fields["targets"] {
        fail(t.key, "the targets of '\(kind)' are its value (\(kind): random 1), not 'targets'")
      }
      targetsNode = kindValue
      switch kind {
      case "isolate": action = .isolate
      case "pause": action = .pause
      case "stop": action = .stop
      case "crash":
        var torn = false
        if let t = fields["torn"], let b = reader.bool(t.value, "'torn'") { torn = b }
        action = .crash(torn: torn)
      default:
        var signal = "KILL"
        if let s = fields["signal"], let name = reader.string(s.value, "'signal'") {
          if let c = Signals.canonical(name) { signal = c } else { fail(s.value, "unknown signal '\(name)'; use a name such as KILL, TERM or HUP") }
        }
        action = .kill(signal: signal)
      }
    }

    // Network faults need each instance in a network namespace of its own.
    if action?.isNetwork ?? false, driver == .process, network.mode == .loopback {
      fail(
        kindKey,
        "'\(kind)' is a network fault, and in network.mode: loopback every instance shares the host's network; use network.mode: namespaces (root) or the docker driver"
      )
    }

    var targets = NemesisTargets(words: ["all"])
    // A clock moves only where libfaketime was preloaded at start: the group opts in.
    let skewable = { (names: [String]) in names.filter { n in !clockGroups.contains(instances.first { $0.name == n }?.group ?? "") } }
    if let t = targetsNode, case .mapping = t.kind {
      if let c = commandTargets(t, what: what) { targets = c } else { ok = false }
    } else if let t = targetsNode {
      if let s = targetText(t), let parsed = NemesisTargets.parse(s) {
        targets = parsed
        switch parsed.pool(in: instances) {
        case .failure(let unknown):
          let names = instances.map(\.name)
          let shown = names.count > 6 ? names.prefix(3).joined(separator: ", ") + ", …, " + names.last! : names.joined(separator: ", ")
          let groups = Array(Set(instances.map(\.group))).sorted()
          var m = "'\(unknown.word)' in \(what) names no instance or group (instances \(shown); groups \(groups.joined(separator: ", ")); or all)"
          if let sug = Suggest.closest(to: unknown.word, in: groups + names) { m += "; did you mean '\(sug)'?" }
          fail(t, m)
        case .success(let pool):
          let n = parsed.random ?? pool.count
          if case .clock? = action, let bad = skewable(pool).first {
            let group = instances.first { $0.name == bad }?.group ?? "?"
            fail(
              t,
              "\(what) moves the clock of \(bad), whose group '\(group)' does not say clock_skew: true (libfaketime is preloaded only where it does)")
          }
          if case .crash? = action, let bad = pool.first(where: { !crashable($0) }) {
            let group = instances.first { $0.name == bad }?.group ?? "?"
            fail(t, "\(what) crashes \(bad), whose group '\(group)' has no mount with faults: true (nothing it wrote could be lost)")
          }
          if case .disk? = action, let bad = pool.first(where: { !crashable($0) }) {
            let group = instances.first { $0.name == bad }?.group ?? "?"
            fail(t, "\(what) breaks the disk of \(bad), whose group '\(group)' has no mount with faults: true")
          }
          if let r = parsed.random, r > pool.count {
            fail(t, "'random \(r)' in \(what) asks for more members than the \(pool.count) its pool holds")
          } else if let a = action, n < a.fewestTargets {
            fail(t, "a \(a.shapeName) partition needs at least \(a.fewestTargets) instances, and \(what) gives it \(n)")
          }
          if case .partition(.cut)? = action, n >= instances.count {
            fail(t, "a cut partition cuts its targets from the other instances, and \(what) takes all \(instances.count); name fewer (random 1)")
          }
        }
      } else {
        fail(t, "the targets of \(what) must be instance or group names (i001,i002; server; all) or 'random N' such as random 2, not \(t.kindName)")
      }
    } else if case .clock? = action, let bad = skewable(instances.map(\.name)).first {
      let group = instances.first { $0.name == bad }?.group ?? "?"
      fail(kindValue, "\(what) moves the clock of every instance (no 'targets'), and group '\(group)' does not say clock_skew: true; give 'targets'")
    } else if case .disk? = action, let bad = instances.first(where: { !crashable($0.name) }) {
      fail(
        kindValue, "\(what) breaks the disk of every instance (no 'targets'), and group '\(bad.group)' has no mount with faults: true; give 'targets'"
      )
    } else if case .partition(.cut)? = action {
      fail(
        kindValue,
        "a cut partition cuts its targets from every other instance: give 'targets' (random 1, i002, or { command: [./primary.sh] } for the current primary)"
      )
    } else if let a = action, instances.count < a.fewestTargets {
      fail(kindValue, "a \(a.shapeName) partition needs at least \(a.fewestTargets) instances, and the manifest makes \(instances.count)")
    }

    guard let timing = timing(fields, kindKey: kindKey, what: what, membership: false) else { return nil }
    guard ok, let action else { return nil }
    return NemesisFault(
      action: action, targets: targets, after: timing.after, lasting: timing.lasting, every: timing.every, times: timing.times,
      location: node.location)
  }

  /// `{ command: [./primary.sh, --cluster, x] }`: targets a program prints
  /// when each occurrence starts. A `./` or `../` program is made absolute
  /// against the manifest's folder and must exist; nil (with diagnostics) when wrong.
  func commandTargets(_ node: YAMLNode, what: String) -> NemesisTargets? {
    guard let m = reader.mapping(node, "the targets of \(what)", allowed: ["command"]) else { return nil }
    guard let (_, _, v) = m.first else {
      // (An unknown key alone was said already.)
      if case .mapping(let pairs) = node.kind, pairs.isEmpty {
        reader.error(node.location, "the targets of \(what) need 'command': a program that prints instance names, one a line")
      }
      return nil
    }
    guard var argv = reader.command(v, "'targets.command' of \(what)") else { return nil }
    if let first = argv.first, first.hasPrefix("./") || first.hasPrefix("../") || first.hasPrefix("/") {
      let full = LocalPath.absolute(first, relativeTo: directory)
      guard FileManager.default.isExecutableFile(atPath: full) else {
        let why = FileManager.default.fileExists(atPath: full) ? "is not executable (chmod +x)" : "does not exist"
        reader.error(v.location, "the targets command of \(what): \(full) \(why)")
        return nil
      }
      argv[0] = full
    }
    return NemesisTargets(command: argv, directory: directory)
  }

  /// A target list as text: a string, or a list of names.
  func targetText(_ node: YAMLNode) -> String? {
    if let s = node.scalar, !node.isNull { return s }
    if case .sequence(let items) = node.kind, !items.isEmpty {
      let words = items.compactMap { $0.isNull ? nil : $0.scalar }
      return words.count == items.count ? words.joined(separator: ",") : nil
    }
    return nil
  }
}

extension NemesisFault.Action {
  /// `majority` for a partition's shape, else the keyword (for messages).
  var shapeName: String {
    if case .partition(let s) = self { return s.rawValue }
    return keyword
  }
}

import Foundation

/// Decodes `workloads:`, reporting each problem at the node that has to change.
struct WorkloadDecoder {
  let reader: Reader

  static let keys = [
    "client", "command", "fail_codes", "generator", "keys", "concurrency", "rate", "time_limit", "final_wait", "checker", "timeout",
    "mix", "total",
  ]

  func decode(_ node: YAMLNode) -> [Workload] {
    guard let m = reader.anyMapping(node, "'workloads'") else { return [] }
    if m.isEmpty { reader.error(node.location, "'workloads' is empty; declare at least one, or leave the key out") }
    var out: [Workload] = []
    for (name, keyNode, value) in m {
      guard ManifestDecoder.isName(name) else {
        reader.error(keyNode.location, "workload name '\(name)' must match [a-z0-9][a-z0-9-]* and be at most 40 characters")
        continue
      }
      if let w = workload(name, at: keyNode.location, value) { out.append(w) }
    }
    return out
  }

  /// One workload; nil (with diagnostics) when it is wrong.
  func workload(_ name: String, at location: SourceLocation, _ node: YAMLNode) -> Workload? {
    let what = "workload '\(name)'"
    guard let pairs = reader.mapping(node, what, allowed: Self.keys) else { return nil }
    var f: [String: (key: YAMLNode, value: YAMLNode)] = [:]
    for (k, kn, v) in pairs { f[k] = (kn, v) }
    let before = reader.diagnostics.count
    var generator: GeneratorKind?
    if let (_, v) = f["generator"] {
      if let s = reader.string(v, "'\(name).generator'") {
        generator = GeneratorKind(rawValue: s)
        if generator == nil {
          var m = "unknown generator '\(s)'; use \(GeneratorKind.allCases.map(\.rawValue).joined(separator: ", "))"
          if let near = Suggest.closest(to: s, in: GeneratorKind.allCases.map(\.rawValue)) { m += " (did you mean '\(near)'?)" }
          reader.error(v.location, m)
        }
      }
    } else {
      reader.error(node.location, "\(what) needs 'generator': one of \(GeneratorKind.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let client = self.client(f, what: what, node: node)
    var w = Workload(name: name, location: location, client: client ?? .process(command: ["true"]), generator: generator ?? .register)
    if let (_, v) = f["keys"], let n = reader.int(v, "'\(name).keys'", range: 1...10_000) {
      if let g = generator, !g.hasKeys, n != 1 {
        reader.error(v.location, "'keys' is for the kv, list-append and bank generators; \(g.rawValue) has one object")
      }
      w.keys = n
    } else if generator == .bank {
      w.keys = 5
    } else if generator == .kv || generator == .listAppend {
      w.keys = 3
    }
    if let (_, v) = f["concurrency"], let n = reader.int(v, "'\(name).concurrency'", range: 1...1000) { w.concurrency = n }
    if let (_, v) = f["rate"] {
      if let s = v.scalar, let r = Workload.rate(s) {
        w.rate = r
      } else {
        reader.error(
          v.location, "'\(name).rate' must be operations per unit of time such as 500/s, 30/m or 2/h, not \(v.scalar.map { "'\($0)'" } ?? v.kindName)"
        )
      }
    }
    if let (_, v) = f["time_limit"], let d = reader.duration(v, "'\(name).time_limit'") { w.timeLimit = d }
    if let (_, v) = f["final_wait"], let d = reader.duration(v, "'\(name).final_wait'") { w.finalWait = d }
    if let (_, v) = f["timeout"], let d = reader.duration(v, "'\(name).timeout'") {
      if d <= .zero { reader.error(v.location, "'\(name).timeout' must be longer than 0s") }
      w.timeout = d
    }
    if let (_, v) = f["checker"], let s = reader.string(v, "'\(name).checker'") {
      if s.isEmpty { reader.error(v.location, "'\(name).checker' must name a model, such as \(w.generator.defaultChecker)") }
      w.checker = s
    } else if let g = generator {
      w.checker = g.defaultChecker
    }
    if let (_, v) = f["total"], let n = reader.int(v, "'\(name).total'", range: 0...1_000_000_000) {
      if let g = generator, g != .bank { reader.error(v.location, "'total' is for the bank generator; \(g.rawValue) has no balances") }
      w.total = Int64(n)
    }
    if let (_, v) = f["mix"], let m = reader.anyMapping(v, "'\(name).mix'") {
      for (op, kn, weight) in m {
        if let g = generator, !g.operations.contains(op) {
          reader.error(kn.location, "the \(g.rawValue) generator makes no '\(op)'; it makes \(g.operations.joined(separator: ", "))")
          continue
        }
        if let n = reader.int(weight, "the weight of '\(op)'", range: 0...1_000_000) { w.mix[op] = n }
      }
      if !w.mix.isEmpty, w.mix.values.allSatisfy({ $0 == 0 }) { reader.error(v.location, "'\(name).mix' gives every operation weight 0") }
    }
    return reader.diagnostics.count == before && client != nil ? w : nil
  }

  /// `client: { command: [...] }` or `command: [...]` (with `fail_codes`), exactly one.
  func client(_ f: [String: (key: YAMLNode, value: YAMLNode)], what: String, node: YAMLNode) -> WorkloadClient? {
    switch (f["client"], f["command"]) {
    case (nil, nil):
      reader.error(node.location, "\(what) needs 'client: { command: [...] }' (one process per worker) or 'command: [...]' (one per operation)")
      return nil
    case (.some, .some(let c)):
      reader.error(c.key.location, "\(what) has both 'client' and 'command'; give one: a process per worker, or one per operation")
      return nil
    case (.some(let c), nil):
      if let fc = f["fail_codes"] { reader.error(fc.key.location, "'fail_codes' is for the per-operation 'command'; a client answers fail itself") }
      guard let m = reader.mapping(c.value, "'client'", allowed: ["command"]) else { return nil }
      guard let cmd = m.first(where: { $0.key == "command" }) else {
        reader.error(c.value.location, "'client' needs 'command': the client program and its arguments")
        return nil
      }
      return reader.command(cmd.value, "'client.command'").map { .process(command: $0) }
    case (nil, .some(let c)):
      guard let cmd = reader.command(c.value, "'command'") else { return nil }
      var codes = Set<Int32>()
      if let fc = f["fail_codes"], case .sequence(let items) = fc.value.kind {
        for i in items { if let n = reader.int(i, "each of 'fail_codes'", range: 1...255) { codes.insert(Int32(n)) } }
      } else if let fc = f["fail_codes"] {
        reader.error(fc.value.location, "'fail_codes' must be a list of exit codes such as [1, 2], not \(fc.value.kindName)")
      }
      return .perOperation(command: cmd, failCodes: codes)
    }
  }
}

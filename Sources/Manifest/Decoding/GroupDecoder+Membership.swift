extension GroupDecoder {
  /// `membership: { join, leave, view, timeout, attempts }`: the three
  /// commands are required (a change is resolved by reading the view).
  func membership(_ node: YAMLNode) -> Membership? {
    let keys = ["join", "leave", "view", "timeout", "attempts"]
    guard let m = reader.mapping(node, "'membership' of \(what)", allowed: keys) else { return nil }
    var commands: [String: [String]] = [:]
    var timeout = Duration.seconds(30)
    var attempts = 3
    for (k, _, v) in m {
      switch k {
      case "timeout":
        if let d = reader.duration(v, "'membership.timeout' of \(what)") {
          if d <= .zero { reader.error(v.location, "'membership.timeout' of \(what) must be more than 0") } else { timeout = d }
        }
      case "attempts":
        if let n = reader.int(v, "'membership.attempts' of \(what)", range: 1...100) { attempts = n }
      default:
        if let c = reader.command(v, "'membership.\(k)' of \(what)") { commands[k] = c }
      }
    }
    let missing = ["join", "leave", "view"].filter { k in !m.contains { $0.key == k } }
    if !missing.isEmpty {
      reader.error(
        node.location,
        "'membership' of \(what) needs \(missing.map { "'\($0)'" }.joined(separator: ", ")) (a change that fails is resolved by reading 'view')")
      return nil
    }
    guard let join = commands["join"], let leave = commands["leave"], let view = commands["view"] else { return nil }
    return Membership(join: join, leave: leave, view: view, timeout: timeout, attempts: attempts, location: node.location)
  }
}

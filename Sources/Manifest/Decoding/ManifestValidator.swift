/// Checks that span groups: instance count, subnet size, host port
/// collisions, `depends_on` names and cycles. Each is reported at the node
/// that has to change: the subnet, the colliding `ports` entry, the
/// `depends_on` entry.
struct ManifestValidator {
  let reader: Reader
  let fields: [String: YAMLNode]
  let root: YAMLNode

  func check(_ m: Manifest) {
    let total = m.groups.reduce(0) { $0 + $1.count }
    let groupsAt = fields["groups"]?.location ?? root.location
    if total > m.instanceLimit {
      let why = m.instanceLimit < ManifestLoader.maxInstances ? " with \(m.bridgedBy) (each instance is a port of one Linux bridge)" : ""
      reader.error(groupsAt, "the manifest asks for \(total) instances; at most \(m.instanceLimit) are allowed\(why)")
    }
    if let subnet = m.network.subnet, total > subnet.capacity - m.driver.reservedAddresses {
      let room = max(0, subnet.capacity - m.driver.reservedAddresses)
      let nodes = m.driver.reservedAddresses > 0 ? "; the top \(m.driver.reservedAddresses) addresses are the swarm nodes'" : ""
      reader.error(
        subnetNode.location, "subnet \(subnet) holds \(room) instances (from .2; .1 is the gateway\(nodes)) but the groups ask for \(total)")
    }
    // Host port ranges: group g uses start ..< start + count for each mapping.
    var taken: [(range: Range<Int>, proto: PortProtocol, group: String)] = []
    for g in m.groups {
      for p in g.ports {
        guard let start = p.hostStart, g.count > 0 else { continue }
        let at = p.location.line > 0 ? p.location : g.location
        let r = start..<(start + g.count)
        if r.upperBound > 65536 {
          reader.error(at, "group '\(g.name)': host ports \(start)–\(r.upperBound - 1) go past 65535")
        }
        if let other = taken.first(where: { $0.proto == p.proto && $0.range.overlaps(r) }) {
          reader.error(
            at,
            "group '\(g.name)': host ports \(r.lowerBound)–\(r.upperBound - 1)/\(p.proto.rawValue) collide with group '\(other.group)' (\(other.range.lowerBound)–\(other.range.upperBound - 1))"
          )
        }
        taken.append((r, p.proto, g.name))
      }
    }
    let names = Set(m.groups.map(\.name))
    for g in m.groups {
      for (i, d) in g.dependsOn.enumerated() {
        if d == g.name {
          reader.error(dependsOn(g, i), "group '\(g.name)' depends on itself")
        } else if !names.contains(d) {
          var msg = "group '\(g.name)' depends on unknown group '\(d)'"
          if let s = Suggest.closest(to: d, in: Array(names)) { msg += "; did you mean '\(s)'?" }
          reader.error(dependsOn(g, i), msg)
        }
      }
    }
    if let cycle = findCycle(m) {
      // At the entry that closes it: the first group's dependency on the second.
      let g = m.group(named: cycle[0])!
      let at = g.dependsOn.firstIndex(of: cycle[1]).map { dependsOn(g, $0) } ?? g.location
      reader.error(at, "depends_on cycle: \(cycle.joined(separator: " → "))")
    }
  }

  /// The `network.subnet` value, else the `network` node.
  var subnetNode: YAMLNode {
    let network = fields["network"] ?? root
    guard case .mapping(let pairs) = network.kind else { return network }
    return pairs.first { $0.key.scalar == "subnet" }?.value ?? network
  }

  /// Where entry `i` of the group's `depends_on` stands (the group, for one made in code).
  func dependsOn(_ g: Group, _ i: Int) -> SourceLocation {
    i < g.dependsOnLocations.count ? g.dependsOnLocations[i] : g.location
  }

  /// A cycle of two or more groups, as a path that returns to its start.
  func findCycle(_ m: Manifest) -> [String]? {
    let edges = Dictionary(m.groups.map { g in (g.name, g.dependsOn.filter { $0 != g.name }) }, uniquingKeysWith: { a, _ in a })
    var state: [String: Int] = [:]
    var stack: [String] = []
    func visit(_ n: String) -> [String]? {
      state[n] = 1
      stack.append(n)
      for d in edges[n] ?? [] where edges[d] != nil {
        if state[d] == 1 { return Array(stack[stack.firstIndex(of: d)!...]) + [d] }
        if state[d] == nil, let c = visit(d) { return c }
      }
      stack.removeLast()
      state[n] = 2
      return nil
    }
    for g in m.groups where state[g.name] == nil {
      if let c = visit(g.name) { return c }
    }
    return nil
  }
}

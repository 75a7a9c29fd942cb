import Foundation

/// Writes a ``Topology`` as mermaid (renders in GitHub's markdown) or as
/// Graphviz dot (`dot -Tsvg` draws it). Both draw the same picture: one box
/// per group holding its instances, each instance linked to the network;
/// `depends_on` as an arrow between groups; faults in red — a partition as
/// a cut link (✂) between the instances it separates, an isolated instance
/// with its link to the network cut, loss, rate and delay written on the
/// instance's link; what a plan does as the instance's colour.
public enum TopologyRenderer {
  /// Above this many cut links a partition is written as one note instead.
  static let maxCutLinks = 40

  struct Link {
    var from: String
    var to: String
    var label: String?
    var cut: Bool
    var fault: Bool
  }

  /// What is drawn, whatever the format.
  struct Picture {
    var links: [Link] = []
    var notes: [String] = []
    /// A partition of whole sets: its node (id, title, the sets).
    /// A link fault between two sets likewise (`cut` false).
    var cuts: [(id: String, title: String, sets: String, cut: Bool)] = []
    var isolated: Set<String> = []
  }

  /// Every member of each set drops every member of the others, and nothing else.
  static func separatesWholeSets(_ f: Fault, _ sets: [[String]]) -> Bool {
    var want: [String: Set<String>] = [:]
    for (i, a) in sets.enumerated() {
      let others = Set(sets.enumerated().filter { $0.offset != i }.flatMap(\.element))
      for n in a { want[n] = others }
    }
    let got = (f.grudge ?? [:]).mapValues(Set.init).filter { !$0.value.isEmpty }
    return got == want
  }

  static func picture(_ t: Topology) -> Picture {
    var p = Picture()
    var onLink: [String: [String]] = [:]
    for f in t.faults {
      switch f.kind {
      case .isolate:
        for n in f.targets {
          p.isolated.insert(n)
          onLink[n, default: []].append("✂ \(f.id) isolate")
        }
      case .partition:
        if let sets = f.sets, sets.count > 1, Self.separatesWholeSets(f, sets) {
          // Whole sets cut from each other: each member to one ✂ node, not every pair.
          let cut = "cut_\(f.id)"
          p.cuts.append((cut, "✂ \(f.id) partition", sets.map { "{" + $0.joined(separator: ",") + "}" }.joined(separator: " | "), true))
          for set in sets { for n in set { p.links.append(Link(from: n, to: cut, label: nil, cut: true, fault: true)) } }
          continue
        }
        let pairs = Topology.cutPairs(f)
        if pairs.count > maxCutLinks {
          p.notes.append("✂ \(f.summary) (\(pairs.count) links cut)")
        } else {
          for (a, b) in pairs { p.links.append(Link(from: a, to: b, label: "✂ \(f.id)", cut: true, fault: true)) }
        }
      case .loss where f.between?.count == 2, .delay where f.between?.count == 2, .duplicate where f.between?.count == 2:
        // A link between two sets: each member to one node that carries the figures.
        let sets = f.between!
        p.cuts.append(
          (
            id: "link_\(f.id)", title: "\(f.id) \(figures(f))", sets: sets.map { "{" + $0.joined(separator: ",") + "}" }.joined(separator: " ↔ "),
            cut: false
          ))
        for set in sets { for n in set { p.links.append(Link(from: n, to: "link_\(f.id)", label: nil, cut: false, fault: true)) } }
      case .loss, .rate, .delay, .clock, .duplicate, .disk:
        for n in f.targets { onLink[n, default: []].append("\(f.id) \(figures(f))") }
      }
    }
    let net = "net"
    var links: [Link] = t.instances.filter { $0.change != .removed }.map { i in
      Link(from: i.name, to: net, label: onLink[i.name]?.joined(separator: ", "), cut: p.isolated.contains(i.name), fault: onLink[i.name] != nil)
    }
    links += p.links
    p.links = links
    return p
  }

  /// `loss 30%`, `rate 1mbit`, `delay 80ms ±10ms`.
  static func figures(_ f: Fault) -> String {
    switch f.kind {
    case .loss: "loss \(Fault.number(f.lossPercent ?? 0))%"
    case .duplicate: "duplicate \(Fault.number(f.duplicatePercent ?? 0))%"
    case .rate: "rate \(Fault.rateText(f.rateBits ?? 0))"
    case .delay:
      "delay \(Fault.number(f.delayMs ?? 0))ms" + (f.jitterMs.map { " ±\(Fault.number($0))ms" } ?? "")
        + (f.reorderPercent.map { " reorder \(Fault.number($0))%" } ?? "")
    case .clock: "clock \(ClockSkew.text(f.skewSeconds ?? 0))"
    case .disk: "disk " + (f.diskRule.map { Fault.ruleText($0) } ?? "")
    case .partition, .isolate: f.kind.rawValue
    }
  }

  static func instanceLabel(_ i: Topology.Instance, newline: String) -> String {
    var parts = [i.name, i.ip]
    if let node = i.node { parts.append("on \(node)") }
    if let s = i.state, s != "running" { parts.append("(\(s))") }
    if let c = i.change { parts.append("[\(c.rawValue)]") }
    return parts.joined(separator: newline)
  }

  static func id(_ name: String) -> String {
    String(name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
  }

  static func caption(_ t: Topology) -> String {
    var s = "fixture \(t.fixture) · \(t.subnet)"
    if !t.faults.isEmpty { s += " · \(t.faults.count) fault\(t.faults.count == 1 ? "" : "s") in force" }
    return s
  }

  // MARK: - mermaid

  public static func mermaid(_ t: Topology) -> String {
    let p = picture(t)
    var out = "---\ntitle: \"\(escapeMermaid(caption(t)))\"\n---\nflowchart LR\n"
    out += "  net((\"\(escapeMermaid(t.network))<br/>\(t.subnet)\"))\n"
    let byGroup = Dictionary(grouping: t.instances, by: \.group)
    for g in t.groups {
      let members = byGroup[g.name] ?? []
      out += "  subgraph g_\(id(g.name))[\"\(escapeMermaid(g.name)) (\(members.filter { $0.change != .removed }.count))\"]\n"
      for i in members { out += "    \(id(i.name))[\"\(escapeMermaid(instanceLabel(i, newline: "<br/>")))\"]\n" }
      out += "  end\n"
    }
    for (n, note) in p.notes.enumerated() { out += "  note\(n)[/\"\(escapeMermaid(note))\"/]\n" }
    for c in p.cuts {
      let (open, close) = c.cut ? ("{{", "}}") : ("([", "])")
      out += "  \(id(c.id))\(open)\"\(escapeMermaid(c.title))<br/>\(escapeMermaid(c.sets))\"\(close)\n"
    }
    var styles: [String] = []
    var index = 0
    for l in p.links {
      let text = l.label.map { "|\"\(escapeMermaid($0))\"|" } ?? ""
      let arrow = l.to.hasPrefix("cut_") ? "-.-x" : l.to.hasPrefix("link_") ? "-.-" : l.cut ? "x--x" : "---"
      out += "  \(id(l.from)) \(arrow)\(text) \(id(l.to))\n"
      if l.fault { styles.append("  linkStyle \(index) stroke:#c0392b,stroke-width:2px,color:#c0392b") }
      index += 1
    }
    for g in t.groups {
      for d in g.dependsOn where t.groups.contains(where: { $0.name == d }) {
        out += "  g_\(id(g.name)) -->|depends_on| g_\(id(d))\n"
        index += 1
      }
    }
    out += styles.joined(separator: "\n") + (styles.isEmpty ? "" : "\n")
    out += "  classDef down fill:#eeeeee,stroke:#999999,color:#777777\n"
    out += "  classDef isolated fill:#fdecea,stroke:#c0392b,stroke-width:2px\n"
    out += "  classDef added fill:#e6f4ea,stroke:#2e7d32\n"
    out += "  classDef changed fill:#fff8e1,stroke:#b28704\n"
    out += "  classDef replaced fill:#fff3e0,stroke:#e65100,stroke-width:2px\n"
    out += "  classDef removed fill:#fdecea,stroke:#c0392b,stroke-dasharray:4 3,color:#999999\n"
    out += "  classDef cut fill:#fdecea,stroke:#c0392b,stroke-width:2px,color:#c0392b\n"
    out += "  classDef link fill:#fff3e0,stroke:#c0392b,color:#c0392b\n"
    for i in t.instances {
      if let cls = styleClass(i, isolated: p.isolated) { out += "  class \(id(i.name)) \(cls)\n" }
    }
    for c in p.cuts { out += "  class \(id(c.id)) \(c.cut ? "cut" : "link")\n" }
    return out
  }

  static func styleClass(_ i: Topology.Instance, isolated: Set<String>) -> String? {
    if let c = i.change { return c.rawValue }
    if isolated.contains(i.name) { return "isolated" }
    if let s = i.state, s != "running" { return "down" }
    return nil
  }

  static func escapeMermaid(_ s: String) -> String {
    s.replacingOccurrences(of: "\"", with: "#quot;")
  }

  // MARK: - dot

  public static func dot(_ t: Topology) -> String {
    let p = picture(t)
    var out = "graph \(quote(t.fixture)) {\n"
    out += "  graph [rankdir=LR, compound=true, fontname=\"Helvetica\", labelloc=t, label=\(quote(caption(t))), nodesep=0.3]\n"
    out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname=\"Helvetica\", fontsize=11]\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=10, color=\"#555555\"]\n"
    out += "  net [shape=ellipse, fillcolor=\"#e8eaf6\", label=\(quote(t.network + "\n" + t.subnet))]\n"
    let byGroup = Dictionary(grouping: t.instances, by: \.group)
    for g in t.groups {
      let members = byGroup[g.name] ?? []
      out += "  subgraph \(quote("cluster_" + g.name)) {\n"
      out += "    label=\(quote("\(g.name) (\(members.filter { $0.change != .removed }.count))")); style=\"rounded\"; color=\"#888888\"\n"
      for i in members {
        var attrs = ["label=\(quote(instanceLabel(i, newline: "\n")))"]
        switch styleClass(i, isolated: p.isolated) {
        case "down": attrs += ["fillcolor=\"#eeeeee\"", "fontcolor=\"#777777\"", "color=\"#999999\""]
        case "isolated": attrs += ["fillcolor=\"#fdecea\"", "color=\"#c0392b\"", "penwidth=2"]
        case "added": attrs += ["fillcolor=\"#e6f4ea\"", "color=\"#2e7d32\""]
        case "changed": attrs += ["fillcolor=\"#fff8e1\"", "color=\"#b28704\""]
        case "replaced": attrs += ["fillcolor=\"#fff3e0\"", "color=\"#e65100\"", "penwidth=2"]
        case "removed": attrs += ["fillcolor=\"#fdecea\"", "color=\"#c0392b\"", "style=\"rounded,filled,dashed\"", "fontcolor=\"#999999\""]
        default: break
        }
        out += "    \(quote(i.name)) [\(attrs.joined(separator: ", "))]\n"
      }
      out += "  }\n"
    }
    for (n, note) in p.notes.enumerated() {
      out += "  \(quote("note\(n)")) [shape=note, fillcolor=\"#fdecea\", color=\"#c0392b\", label=\(quote(note))]\n"
    }
    for c in p.cuts {
      let shape = c.cut ? "shape=octagon, fillcolor=\"#fdecea\", penwidth=2" : "shape=box, style=\"rounded,filled,dashed\", fillcolor=\"#fff3e0\""
      out += "  \(quote(c.id)) [\(shape), color=\"#c0392b\", fontcolor=\"#c0392b\", label=\(quote(c.title + "\n" + c.sets))]\n"
    }
    for l in p.links {
      var attrs: [String] = []
      if let label = l.label { attrs.append("label=\(quote(label))") }
      if l.fault { attrs += ["color=\"#c0392b\"", "fontcolor=\"#c0392b\"", "penwidth=2"] }
      if l.to.hasPrefix("link_") {
        attrs += ["style=dashed"]
      } else if l.to.hasPrefix("cut_") {
        attrs += ["style=dashed", "dir=forward", "arrowhead=tee"]
      } else if l.cut {
        attrs += ["style=dashed", "dir=both", "arrowhead=tee", "arrowtail=tee"]
      }
      if l.to != "net" && !l.to.hasPrefix("cut_") && !l.to.hasPrefix("link_") { attrs.append("constraint=false") }
      out += "  \(quote(l.from)) -- \(quote(l.to))" + (attrs.isEmpty ? "" : " [\(attrs.joined(separator: ", "))]") + "\n"
    }
    for g in t.groups {
      for d in g.dependsOn {
        guard let a = byGroup[g.name]?.first, let b = byGroup[d]?.first else { continue }
        out +=
          "  \(quote(a.name)) -- \(quote(b.name)) [dir=forward, style=dotted, label=\"depends_on\", ltail=\(quote("cluster_" + g.name)), lhead=\(quote("cluster_" + d))]\n"
      }
    }
    out += "}\n"
    return out
  }

  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
      + "\""
  }
}

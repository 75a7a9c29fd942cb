import Foundation
import Manifest
import Stencil

/// Renders a group's templates for one instance with Stencil (Jinja-like).
///
/// Context: `instance` {name, ip, index, ordinal, group}, `peers` (every other
/// instance), `instances`, `groups` (group name → its instances), `fixture`
/// {name, subnet, gateway, root}, `vars`, `mounts` (name → path inside the
/// instance; with the process driver, which mounts nothing, the host folder),
/// and in a group with `membership:` `membership` (see ``MemberContext``).
struct TemplateRenderer {
  let manifest: Manifest
  let slots: [Resolver.Slot]
  let subnet: IPv4Network
  private let all: [[String: Any]]
  private let byGroup: [String: [[String: Any]]]
  private let vars: [String: Any]
  private var parsed = ParsedTemplates()
  /// Every template and copied file's bytes by source path, read once per
  /// resolve (``readSources()``), not once per instance or lane.
  private var sources: [String: Data] = [:]

  /// The same renderer with a template cache of its own (one per thread).
  func withOwnCache() -> TemplateRenderer {
    var copy = self
    copy.parsed = ParsedTemplates()
    return copy
  }

  /// Reads the sources of every group that has instances, each path once;
  /// one that cannot be read is an error naming the group's first instance.
  mutating func readSources() throws {
    var firstOfGroup: [String: String] = [:]
    for s in slots where firstOfGroup[s.group] == nil { firstOfGroup[s.group] = s.name }
    for g in manifest.groups {
      guard let first = firstOfGroup[g.name] else { continue }
      for t in g.templates where sources[t.source] == nil {
        guard let data = FileManager.default.contents(atPath: t.source), String(data: data, encoding: .utf8) != nil else {
          throw OrchestratorError.template("\(t.source): cannot read template (instance \(first))")
        }
        sources[t.source] = data
      }
      for f in g.files where sources[f.source] == nil {
        guard let data = sources[f.source] ?? FileManager.default.contents(atPath: f.source) else {
          throw OrchestratorError(.io, "\(f.source): cannot read file (instance \(first))")
        }
        sources[f.source] = data
      }
    }
  }

  init(manifest: Manifest, slots: [Resolver.Slot], subnet: IPv4Network) {
    self.manifest = manifest
    self.slots = slots
    self.subnet = subnet
    let all = slots.map(Self.dictionary)
    self.all = all
    var byGroup: [String: [[String: Any]]] = [:]
    for g in manifest.groups { byGroup[g.name] = [] }
    for (slot, d) in zip(slots, all) { byGroup[slot.group, default: []].append(d) }
    self.byGroup = byGroup
    var vars: [String: Any] = [:]
    for (k, v) in manifest.vars { vars[k] = Self.any(v) }
    self.vars = vars
  }

  static func dictionary(_ s: Resolver.Slot) -> [String: Any] {
    ["name": s.name, "ip": s.address.description, "index": s.index, "ordinal": s.ordinal, "group": s.group]
  }

  /// `membership` of a template's context: `cluster_state` (`new` or
  /// `existing`), `members` (at join time, itself included: {name, ip}),
  /// `joining` (true for `existing`).
  static func dictionary(_ m: MemberContext) -> [String: Any] {
    [
      "cluster_state": m.clusterState.rawValue, "joining": m.clusterState == .existing,
      "members": m.members.map { ["name": $0.name, "ip": $0.ip.description] },
    ]
  }

  static func any(_ v: Value) -> Any {
    switch v {
    case .null: return ""
    case .bool(let b): return b
    case .int(let i): return i
    case .double(let d): return d
    case .string(let s): return s
    case .list(let l): return l.map(any)
    case .map(let m, _): return m.mapValues(any)
    }
  }

  /// Where the instance sees a mount: its path in the container, or for a
  /// host process the folder itself, `<root>/<ip>/bindmounts/<name>`
  /// (`<root>/<ip>/disk/<name>` with faults: the disk layer's mount point).
  func mountPath(_ m: Mount, slot: Resolver.Slot) -> String {
    let paths = FixturePaths(root: manifest.root)
    guard manifest.driver == .process else { return m.path }
    return m.faults ? DiskLayers.mountPoint(paths, ip: slot.address, mount: m.name) : paths.mountFolder(ip: slot.address, mount: m.name)
  }

  func files(for slot: Resolver.Slot, group: Group, member: MemberContext? = nil) throws -> [RenderedFile] {
    var out: [RenderedFile] = []
    if !group.templates.isEmpty {
      let me = Self.dictionary(slot)
      var context: [String: Any] = [
        "instance": me,
        // Made only when a template asks for it: N instances each holding a
        // list of the other N − 1 cost O(N²) even for templates that never
        // name `peers`. (By the slot's name, not a cast from each dictionary.)
        "peers": LazyValueWrapper(closure: { [slots, all] _ in zip(slots, all).filter { $0.0.name != slot.name }.map(\.1) }),
        "instances": all,
        "groups": byGroup,
        "fixture": [
          "name": manifest.fixture, "subnet": subnet.description, "gateway": subnet.gateway.description,
          "root": manifest.root,
        ],
        "vars": vars,
        "mounts": Dictionary(group.mounts.map { ($0.name, mountPath($0, slot: slot)) }, uniquingKeysWith: { a, _ in a }),
      ]
      if let member { context["membership"] = Self.dictionary(member) }
      for t in group.templates {
        let rendered: String
        do {
          rendered = try parsed.render(t.source, text: sources[t.source], context: context, instance: slot.name)
        } catch let e as OrchestratorError {
          throw e  // (the template could not be read)
        } catch let e as TemplateSyntaxError {
          let line = e.token.map { ":\($0.sourceMap.location.lineNumber)" } ?? ""
          throw OrchestratorError.template("\(t.source)\(line): error: \(e.reason) (rendering for instance \(slot.name))")
        } catch {
          throw OrchestratorError.template("\(t.source): error: \(error) (rendering for instance \(slot.name))")
        }
        let bytes = Data(rendered.utf8)
        out.append(RenderedFile(path: t.target, mode: t.mode, content: bytes, sha256: Hashing.sha256(bytes), source: t.source))
      }
    }
    for f in group.files {
      guard let data = sources[f.source] ?? FileManager.default.contents(atPath: f.source) else {
        throw OrchestratorError(.io, "\(f.source): cannot read file (instance \(slot.name))")
      }
      out.append(RenderedFile(path: f.target, mode: f.mode, content: data, sha256: Hashing.sha256(data), source: f.source))
    }
    return out.sorted { $0.path < $1.path }
  }
}

/// Each template source parsed once per lane, then rendered for
/// every instance (``Environment/renderTemplate(string:context:)`` read,
/// lexed and parsed the same text again for each one). Not shared between
/// threads: each of the ``Resolver``'s lanes has its own.
private final class ParsedTemplates {
  let environment = Environment()
  private var nodes: [String: [any NodeType]] = [:]

  /// What `Environment.renderTemplate(string:context:)` gives for the source's text.
  /// `bytes`: the source's, read already (nil: read it here).
  func render(_ source: String, text bytes: Data?, context: [String: Any], instance: String) throws -> String {
    let parsed: [any NodeType]
    if let known = nodes[source] {
      parsed = known
    } else {
      guard let data = bytes ?? FileManager.default.contents(atPath: source), let text = String(data: data, encoding: .utf8) else {
        throw OrchestratorError.template("\(source): cannot read template (instance \(instance))")
      }
      let template = Template(templateString: text, environment: environment)
      parsed = try TokenParser(tokens: template.tokens, environment: environment).parse()
      nodes[source] = parsed
    }
    return try renderNodes(parsed, Context(dictionary: context, environment: environment))
  }
}

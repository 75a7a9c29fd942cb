import Foundation

extension NemesisDecoder {
  /// The keys only `disk_error` and `disk_delay` take.
  static let diskKeys = ["ops", "path", "percent"]

  /// `disk_error: ENOSPC` or `disk_delay: 50ms` with their `ops`, `path` and
  /// `percent`, checked as the disk layer checks a rule; nil (with
  /// diagnostics at the node to change) when wrong.
  func diskRule(_ kind: String, _ value: YAMLNode, _ fields: [String: (key: YAMLNode, value: YAMLNode)]) -> NemesisFault.Action? {
    var ok = true
    func fail(_ at: YAMLNode, _ message: String) {
      reader.error(at.location, message)
      ok = false
    }
    var rule = NemesisDiskRule()
    if kind == "disk_error" {
      if let name = reader.string(value, "'disk_error'") {
        if let e = DiskErrno(name.uppercased()) {
          rule.errno = e
        } else {
          fail(value, "'\(name)' is not an error the disk layer returns (\(DiskErrno.names))")
        }
      } else {
        ok = false
      }
    } else if let d = reader.duration(value, "'disk_delay'") {
      if d <= .zero || d > .seconds(3600) { fail(value, "'disk_delay' must be more than 0 and at most 1h") } else { rule.delay = d }
    } else {
      ok = false
    }
    if let o = fields["ops"] {
      let names: [String]? =
        if case .scalar = o.value.kind, let s = o.value.scalar {
          s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        } else { reader.strings(o.value, "'ops'") }
      if let names {
        if names.isEmpty { fail(o.value, "'ops' must name at least one operation (leave it out for every one)") }
        var ops: [DiskOperation] = []
        for n in names {
          if let op = DiskOperation(rawValue: n) {
            ops.append(op)
          } else {
            fail(o.value, "'\(n)' in 'ops' is not an operation (\(DiskOperation.names))")
          }
        }
        rule.ops = ops
      } else {
        ok = false
      }
    }
    if let p = fields["path"], let s = reader.string(p.value, "'path'") {
      do { _ = try NSRegularExpression(pattern: s) } catch { fail(p.value, "'path' is not a regular expression: \(error.localizedDescription)") }
      rule.path = s
    } else if fields["path"] != nil {
      ok = false
    }
    if let p = fields["percent"] {
      if let v = Self.percent(p.value) {
        rule.percent = v
      } else {
        fail(p.value, "'percent' must be a percentage from 0 to 100 such as 30 or 30%, not \(p.value.scalar.map { "'\($0)'" } ?? p.value.kindName)")
      }
    }
    return ok ? .disk(rule) : nil
  }
}

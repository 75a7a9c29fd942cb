import Foundation

/// `grow: GROUP` and `shrink: GROUP` entries of `nemesis.faults`, and the
/// timing every entry shares.
extension NemesisDecoder {
  /// An entry's `after`, `for`, `every` and `times`.
  struct Timing {
    var after: Duration
    var lasting: Duration
    var every: Duration?
    var times: Int?
  }

  /// The timing of an entry; nil (with diagnostics) when wrong. A fault
  /// needs `for`; a membership change (`membership`) has none: it is done
  /// once, and stays until another change (or the end of the run) undoes it.
  func timing(
    _ fields: [String: (key: YAMLNode, value: YAMLNode)], kindKey: YAMLNode, what: String, membership: Bool
  ) -> Timing? {
    var ok = true
    func fail(_ at: YAMLNode, _ message: String) {
      reader.error(at.location, message)
      ok = false
    }
    var after = Duration.zero
    if let a = fields["after"] {
      if let d = reader.duration(a.value, "'after'") { after = d } else { ok = false }
    }
    var lasting: Duration? = membership ? .zero : nil
    if let f = fields["for"], membership {
      fail(
        f.key,
        "a membership change has no 'for': it is made once and stays until a shrink or grow undoes it, or the end of the run restores the group's count"
      )
    } else if let f = fields["for"] {
      lasting = reader.duration(f.value, "'for'")
      if let l = lasting, l <= .zero {
        fail(f.value, "'for' must be longer than 0s")
        lasting = nil
      }
      if lasting == nil { ok = false }
    } else if !membership {
      fail(kindKey, "\(what) needs 'for': how long each occurrence lasts before it is healed (e.g. for: 5s)")
    }
    var every: Duration?
    if let e = fields["every"] {
      every = reader.duration(e.value, "'every'")
      if every == nil { ok = false }
      if let e2 = every, let l = lasting, e2 <= l {
        fail(
          e.value,
          membership
            ? "'every' must be longer than 0s"
            : "'every' (\(Units.text(e2))) must be longer than 'for' (\(Units.text(l))): each occurrence is healed before the next, so the gap between them is every − for"
        )
      }
    }
    var times: Int?
    if let t = fields["times"] {
      times = reader.int(t.value, "'times'", range: 1...1_000_000)
      if times == nil { ok = false }
      if let n = times, n > 1, every == nil {
        fail(t.value, "'times: \(n)' repeats the \(membership ? "change" : "fault"): give 'every' too (how often it comes back)")
      }
    }
    guard ok, let lasting else { return nil }
    return Timing(after: after, lasting: lasting, every: every, times: times)
  }

  /// `{ grow: etcd, max: 5, every: 8s }`, `{ shrink: etcd, min: 2, every: 8s }`:
  /// a group with `membership:` one instance larger or smaller at each
  /// occurrence, within its bound (by default `max` is the group's count
  /// + 2, `min` its count − 1 and at least 1). Nil (with diagnostics) when wrong.
  func membershipEntry(_ node: YAMLNode, kind: String, fields: [String: (key: YAMLNode, value: YAMLNode)], what: String) -> NemesisFault? {
    guard let (kindKey, kindValue) = fields[kind] else { return nil }
    var ok = true
    func fail(_ at: YAMLNode, _ message: String) {
      reader.error(at.location, message)
      ok = false
    }
    if let t = fields["targets"] {
      fail(t.key, "the group of '\(kind)' is its value (\(kind): \(membershipGroups.keys.sorted().first ?? "GROUP")), not 'targets'")
    }
    var count: Int?
    let group = reader.string(kindValue, "'\(kind)'")
    if let group {
      if let n = membershipGroups[group] {
        count = n
      } else if groupNames.contains(group) {
        fail(
          kindValue,
          "\(what) \(kind)s group '\(group)', which has no 'membership' (nothing would tell its cluster of the change); give the group membership: { join: [...], leave: [...], view: [...] } (docs/membership.md)"
        )
      } else {
        var m = "'\(group)' in \(what) names no group (groups \(groupNames.joined(separator: ", ")))"
        if let sug = Suggest.closest(to: group, in: groupNames) { m += "; did you mean '\(sug)'?" }
        fail(kindValue, m)
      }
    } else {
      ok = false
    }
    let boundKey = kind == "grow" ? "max" : "min"
    var bound = count.map { kind == "grow" ? $0 + 2 : max(1, $0 - 1) }
    if let b = fields[boundKey] {
      // A group shrunk to none has no member left to tell of the next change.
      bound = reader.int(b.value, "'\(boundKey)'", range: 1...ManifestLoader.maxInstances)
      if bound == nil { ok = false }
    }
    let timing = timing(fields, kindKey: kindKey, what: what, membership: true)
    guard ok, let group, let bound, let timing else { return nil }
    return NemesisFault(
      action: kind == "grow" ? .grow(group: group, max: bound) : .shrink(group: group, min: bound),
      targets: NemesisTargets(words: [group]), after: timing.after, lasting: timing.lasting, every: timing.every, times: timing.times,
      location: node.location)
  }
}

import Foundation
import Manifest

/// The nemesis's `grow` and `shrink` steps: a group with `membership:`
/// one instance larger or smaller (``ApplyEngine/changeGroup(_:group:kind:bound:)``),
/// and, when the nemesis stops, the group brought back to its manifest's count.
extension NemesisRunner {
  /// The manifest the fixture was last applied from, as it is on disk now.
  static func appliedManifest(root: String) throws -> Manifest {
    let state = try FixtureState.require(root: root)
    guard let path = state.manifest else {
      throw OrchestratorError(.membership, "the fixture at \(root) records no manifest: apply it again to change its groups")
    }
    do { return try ManifestLoader.load(path: path) } catch {
      throw OrchestratorError(.membership, "\(path): \(error)")
    }
  }

  /// Makes one change: logged (`nemesis grow 1.2` in events.jsonl, beside
  /// the apply's own `join`/`create` or `leave`/`delete` and `membership`
  /// lines), the record's instances set anew for the draws that follow, and
  /// an instance that left no longer among the names its occurrences in force heal.
  func change(
    _ group: String, _ kind: GroupChange.Kind, bound: Int, _ start: NemesisStepStart, record: inout NemesisRecord, root: String,
    log: EventLog, actor: String
  ) async -> NemesisStepEnd {
    let action = "nemesis \(kind.rawValue) \(start.label)"
    do {
      let made = try await engine.changeGroup(try Self.appliedManifest(root: root), group: group, kind: kind, bound: bound)
      let state = try FixtureState.require(root: root)
      record.instances = state.instances.map { NemesisTimeline.InstanceRef(name: $0.name, group: $0.group) }
      if kind == .shrink, let gone = made.instance {
        for i in record.active.indices { record.active[i].names.removeAll { $0 == gone } }
        record.active.removeAll { $0.names.isEmpty && $0.faultID == nil }
      }
      let names = made.instance.map { [$0] } ?? []
      log.append(Event(actor: actor, kind: .nemesisFault, action: action, targets: ["group:" + group], instances: names, detail: made.summary))
      return NemesisStepEnd(step: start, outcome: .ok, targets: names, summary: made.summary, change: made)
    } catch {
      record.lastError = "\(start.label) \(start.summary): \(error)"
      log.append(Event(actor: actor, kind: .nemesisFault, action: action, targets: ["group:" + group], failed: "\(error)"))
      return NemesisStepEnd(step: start, outcome: .failed("\(error)"), targets: [], summary: start.summary)
    }
  }

  /// Brings every group the schedule grows or shrinks back to the count
  /// its manifest gives, one change at a time (so a `plan` afterwards is
  /// clean): what `nemesis stop` and the end of `cthulhu test` do after
  /// healing the faults. Failures are returned, not thrown: the next
  /// `apply` makes the same changes.
  func restoreGroups(_ schedule: NemesisSchedule, root: String) async -> (changes: [GroupChange], failures: [String]) {
    let groups = schedule.faults.compactMap { f -> String? in
      switch f.action {
      case .grow(let g, _), .shrink(let g, _): g
      default: nil
      }
    }
    guard !groups.isEmpty else { return ([], []) }
    var changes: [GroupChange] = []
    var failures: [String] = []
    do {
      let manifest = try Self.appliedManifest(root: root)
      for group in Array(Set(groups)).sorted() {
        guard let want = manifest.groups.first(where: { $0.name == group })?.count else { continue }
        // Each change moves one step toward `want`; at most as many as there are instances to add or remove.
        while true {
          let have = try FixtureState.require(root: root).instances.filter { $0.group == group }.count
          guard have != want else { break }
          let made = try await engine.changeGroup(manifest, group: group, kind: have < want ? .grow : .shrink, bound: want)
          changes.append(made)
          guard made.skipped == nil, made.to != have else { break }
        }
      }
    } catch {
      failures.append("\(error)")
    }
    return (changes, failures)
  }
}

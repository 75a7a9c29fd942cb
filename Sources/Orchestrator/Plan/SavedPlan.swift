import Foundation
import Manifest

/// A plan saved by `cthulhu plan --out`, to be applied as reviewed or not at all.
extension Plan {
  /// Reads a saved plan: one of another format version, or a file that is no
  /// plan at all, is refused with one sentence naming the file.
  public static func readSaved(_ path: String) throws -> Plan {
    guard let data = FileManager.default.contents(atPath: path) else { throw OrchestratorError(.io, "\(path): no such plan file") }
    struct Header: Decodable { var formatVersion: Int }
    guard let header = try? JSONDecoder().decode(Header.self, from: data) else {
      throw OrchestratorError(.stalePlan, "\(path) is not a plan saved by `cthulhu plan --out` (no formatVersion)")
    }
    guard header.formatVersion == currentFormatVersion else {
      throw OrchestratorError(
        .stalePlan,
        "\(path) is a plan of format version \(header.formatVersion); this cthulhu reads version \(currentFormatVersion): run `cthulhu plan --out` again"
      )
    }
    do {
      return try JSONDecoder().decode(Plan.self, from: data)
    } catch {
      throw OrchestratorError(.stalePlan, "\(path) is not a readable plan (\(error)); run `cthulhu plan --out` again")
    }
  }

  /// Whether `fresh`, planned now, is this saved plan: the same basis (what
  /// the fixture and the manifest were) and the same steps.
  public func isCurrent(_ fresh: Plan) -> Bool { basis == fresh.basis && steps == fresh.steps }
}

extension FixtureController {
  /// Plans `manifest` again and requires the result to be `saved` (read from
  /// `path`): a plan someone reviewed is applied as reviewed or not at all.
  /// The apply that follows refuses it too if the fixture moves before its lock.
  public func plan(_ manifest: Manifest, asSaved saved: Plan, at path: String) async throws -> PlannedChange {
    let planned = try await plan(manifest)
    guard saved.isCurrent(planned.plan) else {
      throw OrchestratorError(.stalePlan, "\(path): the fixture or the manifest changed since this plan was saved; run `cthulhu plan` again")
    }
    return planned
  }

  /// Whether `apply` has anything to do: changes, or a time to live to set
  /// or renew (every apply renews it, even one that changes nothing).
  public func needsApply(_ planned: PlannedChange, options: ApplyOptions) -> Bool {
    planned.plan.hasChanges || options.ttl != nil || planned.observed.state?.ttlSeconds != nil
  }
}

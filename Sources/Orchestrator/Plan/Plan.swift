import Foundation
import Manifest

/// What `apply` would do, as data: ordered steps with reasons. Pure value,
/// `Codable` with a format version; `cthulhu plan --json` prints it.
public struct Plan: Codable, Sendable, Hashable {
  public static let currentFormatVersion = 1
  public var formatVersion: Int = Self.currentFormatVersion
  public var fixture: String
  public var root: String
  public var manifest: String
  /// Hash of the manifest, the state and the engine snapshot the plan was made
  /// from: a saved plan whose basis no longer matches is refused.
  public var basis: String
  public var steps: [Step]
  /// For a plan of one manifest version against another (`plan --against`):
  /// the rendered files that change, for the first changed instance of each group.
  public var fileDiffs: [FileDiff]?

  public var hasChanges: Bool { !steps.isEmpty }

  public var summary: Summary {
    var s = Summary()
    for step in steps where step.target.hasPrefix("instance:") {
      switch step.action {
      case .create: s.add += 1
      case .update, .start: s.change += 1
      case .replace: s.add += 1; s.destroy += 1
      case .delete: s.destroy += 1
      }
    }
    return s
  }

  public struct Summary: Codable, Sendable, Hashable {
    public var add = 0
    public var change = 0
    public var destroy = 0
  }
}

/// One change to one resource.
public struct Step: Codable, Sendable, Hashable {
  public enum Action: String, Codable, Sendable, Hashable {
    case create, update, replace, delete, start
  }
  /// Stable resource id: `network:cthulhu-kv`, `image:server`, `instance:i001`.
  public var target: String
  public var action: Action
  /// For people; apply never branches on them.
  public var reasons: [String]
  /// Targets of steps that must finish first.
  public var dependsOn: [String]
  /// For `update`: what the changed files do to the instance (the group's
  /// `on_change`; encoded as `restart`, `none` or `signal:HUP`).
  public var effect: OnChange?
  /// For `start`: the container is paused (unpause it) rather than stopped.
  public var paused: Bool?

  public init(target: String, action: Action, reasons: [String], dependsOn: [String] = [], effect: OnChange? = nil, paused: Bool? = nil) {
    self.target = target
    self.action = action
    self.reasons = reasons
    self.dependsOn = dependsOn
    self.effect = effect
    self.paused = paused
  }

  /// `i001` for `instance:i001`.
  public var name: String { String(target.split(separator: ":", maxSplits: 1).last ?? "") }
  public var kind: String { String(target.split(separator: ":", maxSplits: 1).first ?? "") }
}

import Foundation
import Manifest

/// What `apply` would do, as data: ordered steps with reasons. Pure value,
/// `Codable` with a format version; `cthulhu plan --json` prints it.
public struct Plan: Codable, Sendable, Hashable {
  /// 2: typed recovery steps (`adopt`, `pull`), the observed object a step
  /// acts on (`existing`, `detach`, `moves`, `folder`), `resume` for 1's `paused`.
  /// Added within 2: membership changes (`member:NAME` targets, actions
  /// `join` and `leave`, with `group` and `members`).
  public static let currentFormatVersion = 2
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
  /// The manifest's `nemesis:` schedule, as the text plan shows it (a plan
  /// against a fixture only). Not part of the topology: no step comes of it,
  /// and `apply` of a saved plan ignores it. Added within format version 2.
  public var nemesis: NemesisPlan?
  /// The manifest's `workloads:`, for `cthulhu test`; like `nemesis`, no step
  /// comes of them. Added within format version 2.
  public var workloads: [WorkloadPlan]?

  public var hasChanges: Bool { !steps.isEmpty }

  public var summary: Summary {
    var s = Summary()
    for step in steps where step.target.instance != nil {
      switch step.action {
      case .create: s.add += 1
      case .update, .start, .adopt: s.change += 1
      case .replace: s.add += 1; s.destroy += 1
      case .delete: s.destroy += 1
      case .pull, .join, .leave: break
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

/// One change to one resource: a fixed sequence of engine and filesystem
/// calls (see `Executor`), with everything that sequence needs from what
/// was observed written in the step, so the executor decides nothing.
public struct Step: Codable, Sendable, Hashable {
  /// What happens to the target:
  ///
  /// - `create`: a network, an image built, or an instance (files, container, start).
  /// - `update`: an instance's files rewritten, then its `effect`.
  /// - `replace`: the `existing` container removed, then as `create`; for a
  ///   network, a readdress (`detach`, the network removed, `moves`, made anew).
  /// - `delete`: the `existing` container and the instance's `folder` removed.
  /// - `start`: the `existing` container brought up as `resume` says.
  /// - `adopt`: an object this fixture made that the state does not record
  ///   (a killed apply's, or one whose create finished after we looked) is
  ///   recorded as this fixture's; an instance's files are written and its
  ///   container brought up as `resume` says.
  /// - `pull`: the image of the target's group fetched.
  /// - `join`, `leave` (target `member:NAME`): the group's `membership`
  ///   command run against a live member of `members`, until the view
  ///   shows the change (see `MembershipChange`).
  public enum Action: String, Codable, Sendable, Hashable {
    case create, update, replace, delete, start, adopt, pull, join, leave
  }

  /// How a `start` or `adopt` brings an existing container up.
  public enum Resume: String, Codable, Sendable, Hashable {
    case start, unpause
  }

  /// Why a step repairs rather than changes: for people and for progress
  /// reports (an instance remade because the engine would not start it);
  /// the executor never branches on it.
  public enum Recovery: String, Codable, Sendable, Hashable {
    /// An object of this fixture the state does not record (adopted, or
    /// replaced when it was made from another spec).
    case unrecorded
    /// The engine refused to start the instance's container in this apply.
    case startRefused
    /// A container the engine cannot start again (dead, being removed).
    case unstartable
    /// A network whose engine holds an instance's address for no container:
    /// made anew with the same subnet.
    case addressHeld
  }

  /// A folder that moves when the fixture is readdressed: `<root>/<from>` to `<root>/<to>`.
  public struct Move: Codable, Sendable, Hashable {
    public var from: IPv4Address
    public var to: IPv4Address
    public init(from: IPv4Address, to: IPv4Address) {
      self.from = from
      self.to = to
    }
  }

  public var target: Target
  public var action: Action
  /// For people; apply never branches on them.
  public var reasons: [String]
  /// Targets of steps that must finish first.
  public var dependsOn: [Target]
  /// For `update`: what the changed files do to the instance (the group's
  /// `on_change`; encoded as `restart`, `none` or `signal:HUP`).
  public var effect: OnChange?
  /// For `start` and `adopt`: how the container comes up (nil: it runs).
  public var resume: Resume?
  /// The engine object the step acts on, as observed: a container id for an
  /// instance (`replace`, `delete`, `update`, `start`, `adopt`), a network id
  /// for a network (`adopt`, `replace`).
  public var existing: String?
  /// For a network `replace`: the fixture's containers, removed first.
  public var detach: [String]?
  /// For a network `replace`: the instance folders that move to new addresses.
  public var moves: [Move]?
  /// For a `delete`: the address whose instance folder goes (nil: none was recorded).
  public var folder: IPv4Address?
  public var recovery: Recovery?
  /// For `join` and `leave`: the group whose `membership` commands run.
  public var group: String?
  /// For `join` and `leave`: the live members the change is made through,
  /// in the order they are tried (the target is not among them).
  public var members: [ClusterMember]?

  public init(
    target: Target, action: Action, reasons: [String], dependsOn: [Target] = [], effect: OnChange? = nil,
    resume: Resume? = nil, existing: String? = nil, detach: [String]? = nil, moves: [Move]? = nil,
    folder: IPv4Address? = nil, recovery: Recovery? = nil, group: String? = nil, members: [ClusterMember]? = nil
  ) {
    self.target = target
    self.action = action
    self.reasons = reasons
    self.dependsOn = dependsOn
    self.effect = effect
    self.resume = resume
    self.existing = existing
    self.detach = detach
    self.moves = moves
    self.folder = folder
    self.recovery = recovery
    self.group = group
    self.members = members
  }

  /// `i001` for `instance:i001`.
  public var name: String { target.name }
}

extension Step {
  /// The resource a step changes. Written `network:cthulhu-kv`, `image:server`
  /// (the group whose image is built or pulled), `instance:i001`; that text is
  /// also its JSON form.
  public enum Target: Sendable, Hashable, Codable, CustomStringConvertible {
    case network(String)
    case image(String)
    case instance(String)
    /// An instance's membership of its group's cluster.
    case member(String)

    public var description: String {
      switch self {
      case .network(let n): "network:" + n
      case .image(let g): "image:" + g
      case .instance(let i): "instance:" + i
      case .member(let i): "member:" + i
      }
    }

    /// The name after the kind: the network's, the group's or the instance's.
    public var name: String {
      switch self {
      case .network(let n), .image(let n), .instance(let n), .member(let n): n
      }
    }

    /// The instance's name, for an instance target.
    public var instance: String? {
      if case .instance(let n) = self { return n }
      return nil
    }

    /// `instance:i001` → `.instance("i001")`; nil for text that names no kind.
    public init?(_ text: String) {
      let parts = text.split(separator: ":", maxSplits: 1)
      guard parts.count == 2, !parts[1].isEmpty else { return nil }
      let name = String(parts[1])
      switch parts[0] {
      case "network": self = .network(name)
      case "image": self = .image(name)
      case "instance": self = .instance(name)
      case "member": self = .member(name)
      default: return nil
      }
    }

    public init(from decoder: any Decoder) throws {
      let c = try decoder.singleValueContainer()
      let text = try c.decode(String.self)
      guard let t = Target(text) else {
        throw DecodingError.dataCorruptedError(
          in: c, debugDescription: "'\(text)' is not a step target (network:NAME, image:GROUP, instance:NAME or member:NAME)")
      }
      self = t
    }

    public func encode(to encoder: any Encoder) throws {
      var c = encoder.singleValueContainer()
      try c.encode(description)
    }
  }
}

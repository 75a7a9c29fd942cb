import Foundation
import Manifest

/// Who an instance runs as, decided at plan time from `user:` (or, on the
/// process driver, its default): for people in `plan` and `status`, and for
/// the owner of the instance's mount folders.
public struct RunAs: Sendable, Hashable, Codable {
  /// Host uid and gid: always known on the process driver; on Docker only
  /// for the numeric parts of `user:` (a name is the image's to resolve).
  public var uid: UInt32?
  public var gid: UInt32?
  /// The host user's name (process driver), or `user:` as written when the
  /// image resolves it (Docker).
  public var name: String?

  public init(uid: UInt32? = nil, gid: UInt32? = nil, name: String? = nil) {
    self.uid = uid
    self.gid = gid
    self.name = name
  }

  /// `uid 1000 (alice), gid 1000`; `user alice (as the image defines it)`.
  public var description: String {
    guard let uid else { return "user \(name ?? "?") (as the image defines it)" }
    return "uid \(uid)" + (name.map { " (\($0))" } ?? "") + (gid.map { ", gid \($0)" } ?? "")
  }

  /// `1000:1000(alice)`, `alice`: a table cell, without spaces.
  public var short: String {
    guard let uid else { return name ?? "?" }
    return "\(uid)" + (gid.map { ":\($0)" } ?? "") + (name.map { "(\($0))" } ?? "")
  }
}

/// The uid and gid cthulhu gives an instance's mount folders (and the files
/// it writes there) so the instance can write them: set only when cthulhu
/// runs as root, the only user who can give files away. `gid` nil: the
/// group is left as it is.
public struct FileOwner: Sendable, Hashable, Codable {
  public var uid: UInt32
  public var gid: UInt32?

  public init(uid: UInt32, gid: UInt32?) {
    self.uid = uid
    self.gid = gid
  }
}

/// `user:` resolved for one group: what the engine is given, who that is,
/// who owns the mount folders.
struct ResolvedUser: Sendable, Hashable {
  /// ``ContainerSpec/user``: Docker's `User` as written; the process driver's `uid:gid`.
  var engine: String?
  var runAs: RunAs?
  var owner: FileOwner?
}

/// Resolves `user:`. Docker passes it to the engine as written (names are
/// the image's). The process driver needs numbers it can switch to: a name
/// must exist on this machine; without `user:` an instance runs as the
/// owner of the manifest's folder when cthulhu is root (so a project checked
/// out by alice runs as alice, never as root unless root owns it), and as
/// cthulhu's own user otherwise. A group without a gid is the user's
/// primary group, or, for a uid this machine does not know, the folder's
/// group (default) or the gid equal to the uid (`user: "4242"`).
struct UserResolver {
  let manifest: Manifest
  let users: any HostUsers

  func resolve(_ group: Group, instances: [String]) throws -> ResolvedUser {
    let me = users.current
    switch manifest.driver {
    case .docker, .swarm:
      guard let spec = group.user else { return ResolvedUser() }
      let uid: UInt32? = if case .number(let n) = spec.user { n } else { nil }
      let gid: UInt32? = if case .number(let n)? = spec.group { n } else { nil }
      let named = uid == nil || (spec.group != nil && gid == nil)
      return ResolvedUser(
        engine: spec.text, runAs: named ? RunAs(name: spec.text) : RunAs(uid: uid, gid: gid),
        owner: me.uid == 0 ? uid.map { FileOwner(uid: $0, gid: gid) } : nil)
    case .process:
      let (uid, gid, name) = try processUser(group, instances: instances)
      if me.uid != 0 && (uid != me.uid || gid != me.gid) {
        let who = users.user(uid: me.uid).map { " (\($0.name))" } ?? ""
        throw error(
          group, instances,
          "cthulhu runs as uid \(me.uid)\(who), not root, so it cannot start instances as uid \(uid), gid \(gid); remove 'user' or run cthulhu as root"
        )
      }
      if me.uid == 0,
        let b = FolderReach(users: users).blocker(
          of: FolderReach.resolved(manifest.root), uid: uid, groups: users.groups(uid: uid, gid: gid))
      {
        throw error(
          group, instances,
          "its instances run as \(RunAs(uid: uid, gid: gid, name: name).description), who cannot reach the fixture's folder \(manifest.root): \(b.folder) has mode \(b.modeText), owner uid \(b.uid), gid \(b.gid); let that user through (chmod o+x \(b.folder)) or put the fixture where it can reach ('root:')"
        )
      }
      return ResolvedUser(
        engine: "\(uid):\(gid)", runAs: RunAs(uid: uid, gid: gid, name: name),
        owner: me.uid == 0 ? FileOwner(uid: uid, gid: gid) : nil)
    }
  }

  private func processUser(_ group: Group, instances: [String]) throws -> (UInt32, UInt32, String?) {
    let me = users.current
    guard let spec = group.user else {
      if me.uid != 0 { return (me.uid, me.gid, users.user(uid: me.uid)?.name) }
      let folder = manifest.directory
      guard let owner = users.owner(of: folder) else {
        throw error(
          group, instances, "cannot tell who owns \(folder), the manifest's folder, whose owner instances run as by default; give the group a 'user'")
      }
      let known = users.user(uid: owner.uid)
      return (owner.uid, known?.gid ?? owner.gid, known?.name)
    }
    let user: HostUser?
    let uid: UInt32
    switch spec.user {
    case .number(let n):
      uid = n
      user = users.user(uid: n)
    case .name(let n):
      guard let u = users.user(named: n) else {
        throw error(
          group, instances,
          "user '\(n)' does not exist on this machine (the process driver runs instances as host users); create it, or give a uid such as 1000")
      }
      uid = u.uid
      user = u
    }
    let gid: UInt32
    switch spec.group {
    case .number(let n)?: gid = n
    case .name(let n)?:
      guard let g = users.group(named: n) else {
        throw error(group, instances, "group '\(n)' of 'user' does not exist on this machine; create it, or give a gid such as 1000")
      }
      gid = g
    case nil:
      // A non-root cthulhu naming itself keeps its own group.
      gid = me.uid != 0 && uid == me.uid ? me.gid : (user?.gid ?? uid)
    }
    return (uid, gid, user?.name)
  }

  private func error(_ group: Group, _ instances: [String], _ message: String) -> OrchestratorError {
    let which = instances.isEmpty ? "" : " (\(instances.joined(separator: ", ")))"
    let at = group.user.map { $0.location.line > 0 ? "\($0.location): " : "" } ?? ""
    return OrchestratorError(.user, "\(at)group '\(group.name)'\(which): \(message)")
  }
}

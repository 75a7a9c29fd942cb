import Foundation
import Manifest

/// How an instance is started as its user (``ContainerSpec/user``, the
/// numeric `uid:gid` the Resolver decided).
///
/// The switch is made by `setpriv` (util-linux, as `nsenter` is): the
/// spawned argv is `[nsenter --net=… --] setpriv --reuid=U --regid=G
/// --init-groups|--clear-groups -- command…`. Why not in cthulhu itself:
/// - `posix_spawn` has no attribute for a uid, a gid or supplementary
///   groups (POSIX_SPAWN_RESETIDS only copies the real ids back), and
///   `fork` in a multi-threaded Swift process may run nothing but
///   async-signal-safe C between fork and exec, which Swift cannot promise.
/// - The order matters and a separate program gets it right: in namespaces
///   mode `nsenter` needs root (CAP_SYS_ADMIN) to enter the namespace, so it
///   runs first and the drop comes after; `setpriv` then sets the gid and
///   the supplementary groups while it still may, and the uid last. Root's
///   groups never reach the instance: a user the host knows gets its own
///   (`initgroups`), a bare uid none.
/// - What runs is visible in `ps` and the instance's record, and the same
///   prefix serves `exec` and health checks, which run as the instance does.
///
/// When the switch cannot be made (setpriv missing, or failing), the start
/// fails or the program never runs: it is never run as root instead.
struct UserSwitch: Codable, Sendable, Hashable {
  var uid: UInt32
  var gid: UInt32
  /// `setpriv … --`, put between `nsenter … --` and the command.
  var prefix: [String]
  /// HOME for the instance: the user's home, else its own folder.
  var home: String

  /// Nil when the instance runs as cthulhu's own user and group (nothing to
  /// switch). Throws when `user` is not `uid:gid`, or names someone else
  /// and cthulhu is not root (the Resolver says so first, in the manifest's
  /// words; this is the driver refusing on its own account).
  static func make(user: String?, instance: String, folder: String, users: any HostUsers) throws -> UserSwitch? {
    guard let user else { return nil }
    let parts = user.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let uid = UInt32(parts[0]), let gid = UInt32(parts[1]) else {
      throw DriverError(.unsupported, "instance \(instance): the process driver needs a numeric uid:gid to run as, not '\(user)'")
    }
    let me = users.current
    if uid == me.uid && gid == me.gid { return nil }
    guard me.uid == 0 else {
      throw DriverError(
        .unsupported, "instance \(instance): cthulhu runs as uid \(me.uid) and cannot start a process as uid \(uid), gid \(gid); only root can")
    }
    guard let setpriv = HostCommand.locate("setpriv") else {
      throw DriverError(
        .unsupported, "instance \(instance): setpriv is not installed, and cthulhu needs it to run the instance as uid \(uid) (Debian: util-linux)")
    }
    let known = users.user(uid: uid)
    return UserSwitch(
      uid: uid, gid: gid,
      prefix: [setpriv, "--reuid=\(uid)", "--regid=\(gid)", known != nil ? "--init-groups" : "--clear-groups", "--"],
      home: known?.home ?? folder)
  }

  /// `env` with HOME set to the user's.
  func environment(_ env: [String]) -> [String] {
    env.map { $0.hasPrefix("HOME=") ? "HOME=" + home : $0 }
  }
}

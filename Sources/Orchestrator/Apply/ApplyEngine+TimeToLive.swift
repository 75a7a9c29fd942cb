import Foundation
import Manifest

extension ApplyEngine {
  /// Records the fixture's time to live and (re)starts the detached reaper
  /// that destroys the fixture when it runs out. Every apply extends it.
  func armTimeToLive(store: StateStore, root: String, requested: Duration?, executable: CthulhuExecutable) async throws -> FixtureState {
    let old = await store.state
    let ttl = requested.map(\.seconds) ?? old.ttlSeconds
    guard let ttl else { return old }
    if let pid = old.ttlReaperPID { HelperProcess.signal(pid: pid, .reaper, root: root) }
    guard ttl > 0 else {
      try await store.update {
        $0.ttlSeconds = nil; $0.expiresAt = nil; $0.ttlReaperPID = nil
      }
      return await store.state
    }
    let expires = Date().addingTimeInterval(ttl)
    let pid = try HelperProcess.spawn(
      executable, .reaper, arguments: ["--fixture", root, "--at", String(expires.timeIntervalSince1970), "--destroy"], root: root)
    try await store.update {
      $0.ttlSeconds = ttl; $0.expiresAt = expires; $0.ttlReaperPID = pid
    }
    return await store.state
  }
}

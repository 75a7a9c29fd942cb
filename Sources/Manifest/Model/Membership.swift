/// `membership:` of a group: how its instances join and leave the cluster
/// they form (etcd's `member add` / `member remove`, a Raft system's
/// AddServer / RemoveServer), and how to ask the cluster who its members
/// are. Each command is an argument vector, every argument rendered with
/// Stencil for the instance that joins or leaves (see docs/membership.md),
/// and run on the host against a live member.
public struct Membership: Sendable, Hashable {
  /// Run before a new instance of a grown group starts.
  public var join: [String]
  /// Run before an instance of a shrunk group is removed.
  public var leave: [String]
  /// Prints the members as the cluster sees them: one a line (a name or an
  /// address), or a JSON list of strings.
  public var view: [String]
  /// How long each run of `join`, `leave` or `view` may take (default 30s).
  public var timeout: Duration
  /// How many times a change that did not commit (the view says so after
  /// its command failed or timed out) is tried in all (default 3).
  public var attempts: Int
  /// Where `membership:` stands in the manifest.
  public var location: SourceLocation

  public init(
    join: [String], leave: [String], view: [String], timeout: Duration = .seconds(30), attempts: Int = 3,
    location: SourceLocation = .unknown
  ) {
    self.join = join
    self.leave = leave
    self.view = view
    self.timeout = timeout
    self.attempts = attempts
    self.location = location
  }

  /// Equal when they run the same commands the same way, wherever they were written.
  public static func == (a: Membership, b: Membership) -> Bool {
    a.join == b.join && a.leave == b.leave && a.view == b.view && a.timeout == b.timeout && a.attempts == b.attempts
  }

  public func hash(into h: inout Hasher) {
    h.combine(join)
    h.combine(leave)
    h.combine(view)
  }
}

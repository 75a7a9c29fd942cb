/// What `lose-unsynced` did.
public struct LossReport: Codable, Sendable, Equatable {
  /// One file whose last unsynced write survived in part (`torn`).
  public struct Torn: Codable, Sendable, Equatable {
    /// Its path in the mount, after the loss.
    public var path: String
    public var offset: Int64
    /// Bytes of the write that survived, from its start (`0 < kept < length`, or 0).
    public var kept: Int
    /// The write's length.
    public var length: Int

    public init(path: String, offset: Int64, kept: Int, length: Int) {
      self.path = path
      self.offset = offset
      self.kept = kept
      self.length = length
    }
  }

  /// Files whose unsynced data was rolled back.
  public var files: Int
  /// Durable bytes written back over unsynced ones.
  public var bytesRestored: Int
  /// Inodes with no durable name that were removed.
  public var namesRemoved: Int
  public var torn: [Torn]

  public init(files: Int, bytesRestored: Int, namesRemoved: Int, torn: [Torn]) {
    self.files = files
    self.bytesRestored = bytesRestored
    self.namesRemoved = namesRemoved
    self.torn = torn
  }
}

/// What a layer's ledger holds: how much `lose-unsynced` would undo.
public struct DiskLayerStatus: Codable, Sendable, Equatable {
  /// Files written or truncated since their last fsync.
  public var unsyncedFiles: Int
  /// Durable bytes kept aside for them.
  public var savedBytes: Int
  /// Folders whose entries changed since their last fsync.
  public var changedDirectories: Int
  /// The delay and error rules in force, with what each did since it was set.
  public var rules: [DiskRuleStatus]

  public init(unsyncedFiles: Int, savedBytes: Int, changedDirectories: Int, rules: [DiskRuleStatus] = []) {
    self.unsyncedFiles = unsyncedFiles
    self.savedBytes = savedBytes
    self.changedDirectories = changedDirectories
    self.rules = rules
  }

  enum CodingKeys: String, CodingKey { case unsyncedFiles, savedBytes, changedDirectories, rules }

  /// A reply without `rules` (a layer from before them) has none.
  public init(from decoder: any Decoder) throws {
    let fields = try decoder.container(keyedBy: CodingKeys.self)
    unsyncedFiles = try fields.decode(Int.self, forKey: .unsyncedFiles)
    savedBytes = try fields.decode(Int.self, forKey: .savedBytes)
    changedDirectories = try fields.decode(Int.self, forKey: .changedDirectories)
    rules = try fields.decodeIfPresent([DiskRuleStatus].self, forKey: .rules) ?? []
  }
}

/// A request to a running disk layer (`cthulhu _disk`): one JSON line on
/// its control socket (`<state>/control.sock`), answered by one JSON line
/// (``DiskLayerReply``), then the connection closes. The spelling of each
/// request is in docs/disk-faults.md; ask with ``DiskLayerClient``.
public enum DiskLayerRequest: Codable, Sendable, Equatable {
  /// Roll the backing folder back to what was made durable:
  /// `{"loseUnsynced":{"torn":false,"seed":S}}`.
  case loseUnsynced(torn: Bool, seed: UInt64)
  /// How much that would undo: `{"status":{}}`.
  case status
}

/// The answer to a ``DiskLayerRequest``: the report asked for, or why not
/// (`error`, a sentence for people).
public struct DiskLayerReply: Codable, Sendable, Equatable {
  public var loss: LossReport?
  public var status: DiskLayerStatus?
  public var error: String?

  public init(loss: LossReport? = nil, status: DiskLayerStatus? = nil, error: String? = nil) {
    self.loss = loss
    self.status = status
    self.error = error
  }
}

/// The durable bytes of one file that writes since its last fsync have
/// overwritten: for each byte offset below the file's durable size that a
/// write or a truncation changed, the byte it held at the last fsync.
/// Kept as sorted, disjoint, non-adjacent pieces (adjacent ones are merged,
/// so a file rewritten in order holds one piece).
public struct SavedRanges: Sendable, Equatable {
  /// One saved piece: `bytes` held at `start` ..< `start + bytes.count`.
  public struct Piece: Sendable, Equatable {
    public var start: Int64
    public var bytes: [UInt8]
    public var end: Int64 { start + Int64(bytes.count) }

    public init(start: Int64, bytes: [UInt8]) {
      self.start = start
      self.bytes = bytes
    }
  }

  public private(set) var pieces: [Piece] = []

  public init() {}

  /// How many bytes are saved.
  public var byteCount: Int { pieces.reduce(0) { $0 + $1.bytes.count } }

  /// The index of the first piece that ends after `offset`.
  private func firstEnding(after offset: Int64) -> Int {
    var low = 0
    var high = pieces.count
    while low < high {
      let mid = (low + high) / 2
      if pieces[mid].end <= offset { low = mid + 1 } else { high = mid }
    }
    return low
  }

  /// The parts of `start ..< end` that no piece covers, in order: what a
  /// write over that range must save before it lands.
  public func gaps(_ start: Int64, _ end: Int64) -> [Range<Int64>] {
    guard start < end else { return [] }
    var gaps: [Range<Int64>] = []
    var cursor = start
    var i = firstEnding(after: start)
    while i < pieces.count, pieces[i].start < end {
      if pieces[i].start > cursor { gaps.append(cursor..<pieces[i].start) }
      cursor = max(cursor, pieces[i].end)
      i += 1
    }
    if cursor < end { gaps.append(cursor..<end) }
    return gaps
  }

  /// Saves `bytes` at `start`; the range must be one of ``gaps(_:_:)``
  /// (no byte of it saved yet). Merges with the pieces it touches.
  public mutating func insert(start: Int64, bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    let end = start + Int64(bytes.count)
    var i = firstEnding(after: start)
    precondition(i == pieces.count || pieces[i].start >= end, "SavedRanges.insert over a saved range")
    if i > 0, pieces[i - 1].end == start {
      pieces[i - 1].bytes.append(contentsOf: bytes)
      i -= 1
    } else {
      pieces.insert(Piece(start: start, bytes: bytes), at: i)
    }
    if i + 1 < pieces.count, pieces[i + 1].start == pieces[i].end {
      pieces[i].bytes.append(contentsOf: pieces[i + 1].bytes)
      pieces.remove(at: i + 1)
    }
  }
}

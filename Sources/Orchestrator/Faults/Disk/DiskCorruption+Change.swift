#if canImport(Glibc)
import Glibc

extension DiskCorruption {
  /// Changes the open file `fd` (found as `file`) as `kind` says.
  static func change(_ fd: Int32, _ file: FolderWalk.File, _ kind: Kind, _ random: inout SeededGenerator) throws(DiskCorruptionError) -> [Change] {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .io(path: file.path, errno: errno) }
    let size = Int64(st.st_size)
    switch kind {
    case .bitflip(let count):
      var changes: [Change] = []
      // The bits, as one mask per byte.
      var masks: [Int64: UInt8] = [:]
      for bit in bitsToFlip(count, of: size * 8, &random) { masks[bit / 8, default: 0] |= 1 << UInt8(bit % 8) }
      for (offset, mask) in masks.sorted(by: { $0.key < $1.key }) {
        var byte: UInt8 = 0
        guard pread(fd, &byte, 1, off_t(offset)) == 1 else { throw .io(path: file.path, errno: errno) }
        var new = byte ^ mask
        guard pwrite(fd, &new, 1, off_t(offset)) == 1 else { throw .io(path: file.path, errno: errno) }
        changes.append(Change(path: file.path, offset: offset, length: 1, old: byte, new: new))
      }
      return changes
    case .truncate(let bytes):
      let kept = max(0, size - bytes)
      guard ftruncate(fd, off_t(kept)) == 0 else { throw .io(path: file.path, errno: errno) }
      return [Change(path: file.path, offset: kept, length: size - kept)]
    case .zero(let offset, let length):
      let end = min(size, offset + length)
      let zeros = [UInt8](repeating: 0, count: 1 << 16)
      var at = offset
      while at < end {
        let n = zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, Int(min(Int64($0.count), end - at)), off_t(at)) }
        guard n > 0 else { throw .io(path: file.path, errno: errno) }
        at += Int64(n)
      }
      return [Change(path: file.path, offset: offset, length: end - offset)]
    }
  }

  /// `count` distinct bit positions below `bits` (all of them if fewer), drawn from `random`.
  static func bitsToFlip(_ count: Int, of bits: Int64, _ random: inout SeededGenerator) -> [Int64] {
    guard Int64(count) < bits else { return Array(0..<bits) }
    if Int64(count) * 2 <= bits {
      var picked: [Int64] = []
      var seen: Set<Int64> = []
      while picked.count < count {
        let bit = Int64.random(in: 0..<bits, using: &random)
        if seen.insert(bit).inserted { picked.append(bit) }
      }
      return picked
    }
    // More than half: shuffle them all (fewer than 2 × count) and keep count.
    var all = Array(0..<bits)
    all.shuffle(using: &random)
    return Array(all.prefix(count))
  }
}
#endif

/// The kinds of edge between two transactions, as bits (an edge may be several).
public struct Rels: OptionSet, Sendable, Hashable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  /// T2 overwrote (appended after) T1's write.
  public static let ww = Rels(rawValue: 1)
  /// T2 read T1's write.
  public static let wr = Rels(rawValue: 2)
  /// T2 overwrote the version T1 read (an anti-dependency).
  public static let rw = Rels(rawValue: 4)
  /// The same process ran T1, then T2.
  public static let process = Rels(rawValue: 8)
  /// T1 completed before T2 was invoked.
  public static let realtime = Rels(rawValue: 16)

  /// The edge kinds in the order explanations prefer them: data first.
  static let order: [(Rels, String)] = [(.ww, "ww"), (.wr, "wr"), (.rw, "rw"), (.process, "process"), (.realtime, "realtime")]
}

/// A directed graph over transactions (vertices 0..<count), built once from
/// a list of edges and then read: each vertex's successors sorted, with the
/// kinds of each edge merged.
struct DependencyGraph {
  let count: Int
  /// Successors of v: `targets[starts[v]..<starts[v+1]]`, kinds in `rels` alike.
  private(set) var starts: [Int]
  private(set) var targets: [Int32]
  private(set) var rels: [Rels]

  struct Builder {
    var count: Int
    var edges: [(from: Int32, to: Int32, rel: Rels)] = []
    mutating func link(_ a: Int, _ b: Int, _ rel: Rels) {
      if a != b { edges.append((Int32(a), Int32(b), rel)) }
    }
  }

  init(_ b: Builder) {
    count = b.count
    // Bucket the edges by source (linear), then sort each vertex's few successors and merge repeats.
    var bucket = [Int](repeating: 0, count: count + 1)
    for e in b.edges { bucket[Int(e.from) + 1] += 1 }
    for v in 0..<count { bucket[v + 1] += bucket[v] }
    var cursor = bucket
    var pairs = [(to: Int32, rel: Rels)](repeating: (0, []), count: b.edges.count)
    for e in b.edges {
      pairs[cursor[Int(e.from)]] = (e.to, e.rel)
      cursor[Int(e.from)] += 1
    }
    starts = [Int](repeating: 0, count: count + 1)
    targets = []
    rels = []
    targets.reserveCapacity(pairs.count)
    rels.reserveCapacity(pairs.count)
    for v in 0..<count {
      var slice = pairs[bucket[v]..<bucket[v + 1]]
      slice.sort { $0.to < $1.to }
      for p in slice {
        if targets.count > starts[v], targets[targets.count - 1] == p.to {
          rels[rels.count - 1].formUnion(p.rel)
        } else {
          targets.append(p.to)
          rels.append(p.rel)
        }
      }
      starts[v + 1] = targets.count
    }
  }

  /// The kinds of the edge a → b, empty when there is none.
  func rels(_ a: Int, _ b: Int) -> Rels {
    var lo = starts[a]
    var hi = starts[a + 1]
    while lo < hi {
      let mid = (lo + hi) / 2
      if targets[mid] < Int32(b) { lo = mid + 1 } else { hi = mid }
    }
    return lo < starts[a + 1] && targets[lo] == Int32(b) ? rels[lo] : []
  }

  /// Strongly connected components using only edges with a kind in `mask`,
  /// restricted to `within` when given (Tarjan's algorithm without
  /// recursion). Only components that can hold a cycle: two or more vertices
  /// (the graph has no self-edges). Each sorted, the list sorted by first vertex.
  func components(_ mask: Rels, within: [Int]? = nil) -> [[Int]] {
    var inside: [Bool]?
    if let within {
      var a = [Bool](repeating: false, count: count)
      for v in within { a[v] = true }
      inside = a
    }
    var index = [Int32](repeating: -1, count: count)
    var low = [Int32](repeating: 0, count: count)
    var onStack = [Bool](repeating: false, count: count)
    var stack: [Int] = []
    var frames: [(v: Int, next: Int)] = []
    var next: Int32 = 0
    var out: [[Int]] = []
    for root in within ?? Array(0..<count) where index[root] < 0 {
      frames.append((root, starts[root]))
      index[root] = next
      low[root] = next
      next += 1
      stack.append(root)
      onStack[root] = true
      while !frames.isEmpty {
        let (v, e) = frames[frames.count - 1]
        if e < starts[v + 1] {
          frames[frames.count - 1].next = e + 1
          let w = Int(targets[e])
          guard !rels[e].isDisjoint(with: mask), inside?[w] ?? true else { continue }
          if index[w] < 0 {
            index[w] = next
            low[w] = next
            next += 1
            stack.append(w)
            onStack[w] = true
            frames.append((w, starts[w]))
          } else if onStack[w] {
            low[v] = min(low[v], index[w])
          }
          continue
        }
        frames.removeLast()
        if let parent = frames.last { low[parent.v] = min(low[parent.v], low[v]) }
        if low[v] == index[v] {
          var component: [Int] = []
          while true {
            let w = stack.removeLast()
            onStack[w] = false
            component.append(w)
            if w == v { break }
          }
          if component.count > 1 { out.append(component.sorted()) }
        }
      }
    }
    return out.sorted { $0[0] < $1[0] }
  }
}

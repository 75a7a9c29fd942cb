/// The plan's steps in dependency order, for ``Executor``: a step is ready
/// once every step it depends on that is in the plan has succeeded, and
/// ready steps come out in plan order (as a scan of the pending steps for
/// the first ready one gave them, which cost O(steps) per launch).
///
/// Each step keeps a count of the dependencies it waits for; a success
/// counts down the steps that wait for its target, and the ready ones wait
/// in a min-heap of plan positions. The whole run costs
/// O((steps + dependencies) · log steps).
struct StepQueue {
  private let steps: [Step]
  /// Dependencies (targets in the plan) each step still waits for.
  private var waiting: [Int]
  /// The steps waiting for each target.
  private var dependents: [Step.Target: [Int]] = [:]
  private var succeeded: Set<Step.Target> = []
  private var ready = MinHeap()
  private var started: [Bool]

  init(_ steps: [Step]) {
    self.steps = steps
    waiting = Array(repeating: 0, count: steps.count)
    started = Array(repeating: false, count: steps.count)
    let known = Set(steps.map(\.target))
    for (i, s) in steps.enumerated() {
      // (A dependency outside the plan has nothing to wait for.)
      let deps = Set(s.dependsOn).filter(known.contains)
      waiting[i] = deps.count
      for d in deps { dependents[d, default: []].append(i) }
      if deps.isEmpty { ready.push(i) }
    }
  }

  /// The first ready step in plan order, marked started; nil when none is ready.
  mutating func next() -> Step? {
    guard let i = ready.pop() else { return nil }
    started[i] = true
    return steps[i]
  }

  /// A step with this target succeeded: the steps waiting only for it become ready.
  mutating func succeeded(_ target: Step.Target) {
    guard succeeded.insert(target).inserted else { return }
    for i in dependents[target] ?? [] {
      waiting[i] -= 1
      if waiting[i] == 0 { ready.push(i) }
    }
  }

  /// The steps never started, in plan order.
  var notStarted: [Step] { steps.indices.filter { !started[$0] }.map { steps[$0] } }
}

/// A binary min-heap of plan positions.
struct MinHeap {
  private var items: [Int] = []

  var isEmpty: Bool { items.isEmpty }

  mutating func push(_ x: Int) {
    items.append(x)
    var i = items.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard items[i] < items[parent] else { break }
      items.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> Int? {
    guard let top = items.first else { return nil }
    let last = items.removeLast()
    guard !items.isEmpty else { return top }
    items[0] = last
    var i = 0
    while true {
      let l = 2 * i + 1
      let r = l + 1
      var m = i
      if l < items.count, items[l] < items[m] { m = l }
      if r < items.count, items[r] < items[m] { m = r }
      guard m != i else { return top }
      items.swapAt(i, m)
      i = m
    }
  }
}

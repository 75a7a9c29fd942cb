import Foundation
import Manifest

extension FaultInjector {
  /// Lifts the faults `ids`, and every fault tagged `owner` when one is
  /// given, wherever they are in force (a nemesis heals its own faults this
  /// way, never those someone else made, as `heal` of an instance would).
  /// Each fault lifted is a `lift fN` event. Returns the faults lifted.
  @discardableResult
  public func lift(root: String, ids: [String], owner: String? = nil) async throws -> [Fault] {
    let start = ContinuousClock.now
    let gone = try await changeFaults(root: root, .lift, targets: ids) { book, _ in
      let wanted = Set(ids)
      let gone = book.faults.filter { wanted.contains($0.id) || (owner != nil && $0.owner == owner) }
      book.faults.removeAll { f in gone.contains { $0.id == f.id } }
      return gone
    }
    let seconds = (ContinuousClock.now - start).seconds
    let log = EventLog(root: root)
    for f in gone {
      log.append(
        Event(
          actor: "faults[\(getpid())]", kind: .lift, action: "lift \(f.id)", targets: f.targets, instances: f.targets, detail: "lifted \(f.summary)",
          seconds: seconds,
          lifted: [f.id]))
    }
    return gone
  }
}

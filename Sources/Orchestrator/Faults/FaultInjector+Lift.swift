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

/// A change of the fault book: what `changeFaults` is asked to do, for its
/// lock's holder, its events and what it reports.
enum FaultChange: Sendable, Hashable {
  /// Put a new fault of this kind in force.
  case make(Fault.Kind)
  /// Lift faults by id.
  case lift
  /// Lift the faults whose `--for` ran out (every change does this first).
  case expire
  /// Lift or narrow every fault on the targets.
  case heal
  /// Lift clock skews.
  case clockReset

  /// As people say it (`partition`, `clock reset`): the lock's holder, an event's action.
  var words: String {
    switch self {
    case .make(let kind): kind.rawValue
    case .lift: "lift"
    case .expire: "expire"
    case .heal: "heal"
    case .clockReset: "clock reset"
    }
  }

  var eventKind: Event.Kind {
    switch self {
    case .make: .fault
    case .lift: .lift
    case .expire: .expire
    case .heal: .heal
    case .clockReset: .clockReset
    }
  }
}

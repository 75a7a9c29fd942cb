import Foundation

/// The fixture state during an apply: every change is saved durably before
/// the call that made it returns, so a crash between steps leaves a state
/// the next apply repairs.
///
/// A change is one line of the state's journal (see ``StateJournal``): an
/// instance record upserted or removed, or the fixture-wide header. The
/// first save writes the whole state as a snapshot naming a new journal;
/// ``compact()`` (the end of an apply) writes it whole again without one.
/// So an apply of N instances writes O(N) bytes, where saving the whole
/// state after every step wrote O(N²).
///
/// Saves are group-committed: a change made while a write is under way
/// waits for it, and the next write carries every change made meanwhile,
/// with one `fdatasync` for all of them. The file I/O runs on a queue of its
/// own, not on the concurrency pool the steps share.
///
/// Instance records change only through ``upsert(_:)``, ``updateInstance(named:_:)``
/// and ``removeInstance(_:)``; ``update(_:)`` is for the fixture-wide fields.
actor StateStore {
  private(set) var state: FixtureState
  private let journal: StateJournal
  private let io = DispatchQueue(label: "cthulhu.state-journal")
  /// Encoded changes not yet handed to a write.
  private var pending: [Data] = []
  /// Changes made so far, and how many of them the disk holds.
  private var changes = 0
  private var saved = 0
  private var writing: Task<Void, any Error>?
  /// False until a snapshot names an open journal, and again after a
  /// failed write: the next write is then a whole snapshot.
  private var journalOpen = false

  init(_ state: FixtureState) {
    self.state = state
    journal = StateJournal(root: state.root)
  }

  /// The record of `name`, if the state holds one.
  func instance(named name: String) -> InstanceRecord? { state.instance(named: name) }

  /// Changes fixture-wide fields (not the instance records: see the type's docs).
  func update(_ change: (inout FixtureState) -> Void) async throws {
    let before = state.instances
    change(&state)
    // (Array equality first compares storage: O(1) when the records were not touched.)
    precondition(state.instances == before, "StateStore.update changes fixture-wide fields; instance records go through upsert and removeInstance")
    state.updatedAt = Date()
    try await save(.fixture(state))
  }

  /// (The record's line is encoded by the caller, before the hop to the
  /// store: encoding is most of a save, and steps run side by side.)
  nonisolated func upsert(_ record: InstanceRecord) async throws {
    try await upsert(record, line: try StateJournal.line(.upsert(record)))
  }

  private func upsert(_ record: InstanceRecord, line: Data) async throws {
    state.upsert(record)
    state.updatedAt = Date()
    try await save(line)
  }

  /// Changes the record of `name`, if there is one and the change changes it.
  func updateInstance(named name: String, _ change: (inout InstanceRecord) -> Void) async throws {
    guard let old = state.instance(named: name) else { return }
    var r = old
    change(&r)
    guard r != old else { return }
    try await upsert(r, line: try StateJournal.line(.upsert(r)))
  }

  func removeInstance(_ name: String) async throws {
    guard state.instance(named: name) != nil else { return }
    state.removeInstance(name)
    state.updatedAt = Date()
    try await save(.remove(name))
  }

  /// Writes the whole state with no journal (the end of an apply).
  func compact() async throws {
    while let w = writing { _ = try? await w.value }
    let snapshot = state
    let covers = changes
    try await onQueue { [journal] in try journal.finish(snapshot) }
    journalOpen = false
    pending = []
    saved = max(saved, covers)
  }

  private func save(_ change: StateChange) async throws {
    try await save(try StateJournal.line(change))
  }

  private func save(_ line: Data) async throws {
    pending.append(line)
    changes += 1
    let mine = changes
    while saved < mine {
      if let w = writing {
        // Another caller's write is under way; it may not hold this change.
        _ = try? await w.value
        continue
      }
      let batch = pending
      let covers = changes
      pending = []
      let snapshot: FixtureState? = journalOpen ? nil : state
      let w = Task { try await commit(batch, snapshot: snapshot, covers: covers) }
      writing = w
      try await w.value
    }
  }

  /// Appends `batch`, or when no journal is open writes `snapshot` (which
  /// holds every change so far) and opens one; records what the disk holds
  /// before anyone waiting on it resumes.
  private func commit(_ batch: [Data], snapshot: FixtureState?, covers: Int) async throws {
    defer { writing = nil }
    do {
      if let snapshot {
        try await onQueue { [journal] in try journal.start(snapshot) }
        journalOpen = true
      } else {
        try await onQueue { [journal] in try journal.append(batch) }
      }
      saved = max(saved, covers)
    } catch {
      // The batch may be half written: the next save starts over with a snapshot.
      journalOpen = false
      throw error
    }
  }

  private func onQueue(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
      io.async { c.resume(with: Result { try body() }) }
    }
  }
}

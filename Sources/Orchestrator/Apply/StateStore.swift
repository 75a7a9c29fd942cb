import Foundation

/// The fixture state during an apply: every change is saved (atomically)
/// before `update` returns, so a crash between steps leaves a state the next
/// apply repairs.
///
/// Saves are group-committed: a change made while a save is being written
/// waits for it, and the next save then carries every change made meanwhile.
/// Each save writes the whole state, so saving once per change made an apply
/// of N instances cost O(N²); with parallel steps, one save now serves many.
actor StateStore {
  private(set) var state: FixtureState
  /// Changes made so far, and how many of them the file holds.
  private var changes = 0
  private var saved = 0
  private var writing: Task<Void, any Error>?

  init(_ state: FixtureState) { self.state = state }

  func update(_ change: (inout FixtureState) -> Void) async throws {
    change(&state)
    state.updatedAt = Date()
    changes += 1
    let mine = changes
    while saved < mine {
      if let w = writing {
        // Another caller's save is under way; it may not hold this change.
        _ = try? await w.value
        continue
      }
      let snapshot = state, covers = changes
      let w = Task { try await commit(snapshot, covers: covers) }
      writing = w
      try await w.value
    }
  }

  /// Writes `snapshot` (off the actor: encoding a large state takes a
  /// while) and records what it holds before anyone waiting on it resumes.
  private func commit(_ snapshot: FixtureState, covers: Int) async throws {
    defer { writing = nil }
    try await Task.detached { try snapshot.save() }.value
    saved = max(saved, covers)
  }
}

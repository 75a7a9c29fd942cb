import Foundation

/// The fixture state during an apply: every change is saved at once
/// (atomically), so a crash between steps leaves a state the next apply repairs.
actor StateStore {
  private(set) var state: FixtureState

  init(_ state: FixtureState) { self.state = state }

  func update(_ change: (inout FixtureState) -> Void) throws {
    change(&state)
    state.updatedAt = Date()
    try state.save()
  }
}

import History

/// A history checked by `cthulhu check`, kept until the process exits.
///
/// A large history is millions of small arrays: freeing them one by one
/// after the verdict cost 5–8 % of the run (as clang's `-disable-free`
/// knows), and the exit hands the memory back at once.
enum KeepUntilExit {
  nonisolated(unsafe) private static var kept: [History] = []

  static func keep(_ history: History) -> History {
    kept.append(history)
    return history
  }
}

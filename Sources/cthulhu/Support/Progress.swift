import ArgumentParser
import Foundation
import Orchestrator
import Synchronization

/// How `apply` and `destroy` report long work (`--progress`).
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
  /// A line per step as it starts and ends: the default when the output is
  /// not a terminal (logs, CI, pipes).
  case plain
  /// One line that updates in place: done/total, failures, elapsed. The
  /// default on a terminal (not when TERM is `dumb`).
  case tty
  /// Only the plan and the outcome.
  case none

  static func resolve(_ asked: ProgressMode?) -> ProgressMode {
    if let asked { return asked }
    return Terminal.isInteractive ? .tty : .plain
  }
}

extension ProgressMode {
  /// What reports the steps in this mode, and on a terminal the line it feeds
  /// (`total` steps; 0 when not known beforehand: the line then counts up).
  func observer(verb: String, total: Int) -> (any ApplyObserver, ProgressLine?) {
    switch self {
    case .plain: return (ProgressPrinter(), nil)
    case .none: return (QuietObserver(), nil)
    case .tty:
      let line = ProgressLine(verb: verb, total: total)
      return (ProgressLineObserver(line: line), line)
    }
  }
}

enum Terminal {
  /// Standard output is a terminal that can redraw a line.
  static var isInteractive: Bool {
    isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  }

  /// Colours only on a terminal, and never with NO_COLOR set (no-color.org).
  static var colours: Bool {
    guard let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty else { return isInteractive }
    return false
  }
}

/// The one updating line: `apply  37/300 done · 1 failed · 2 running · 4.1s`.
/// Events come from many tasks at once; the line is redrawn at most every
/// 100 ms and by a ticker each half second, so the elapsed time moves while
/// a slow step runs. Failures and retries are printed as lines above it.
final class ProgressLine: Sendable {
  private struct Counts {
    var total = 0
    var done = 0
    var failed = 0
    var running = 0
    var lastDraw = ContinuousClock.now - .seconds(1)
    var shown = false
  }

  private let verb: String
  private let unit: String
  private let colours: Bool
  private let start = ContinuousClock.now
  private let counts = Mutex(Counts())
  private let ticker = Mutex<Task<Void, Never>?>(nil)

  init(verb: String, unit: String = "done", total: Int) {
    self.verb = verb
    self.unit = unit
    self.colours = Terminal.colours
    counts.withLock { $0.total = total }
    let task = Task { [weak self] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .milliseconds(500))
        guard let self, !Task.isCancelled else { return }
        self.draw(force: true)
      }
    }
    ticker.withLock { $0 = task }
  }

  func add(total more: Int) { update(force: true) { $0.total += more } }
  func set(total: Int) { update(force: true) { $0.total = total } }
  func set(done: Int, of total: Int) {
    update(force: done == total) {
      $0.done = done
      $0.total = total
    }
  }
  func started() { update { $0.running += 1 } }
  func finished(failed: Bool) {
    update(force: failed) {
      $0.running = max(0, $0.running - 1)
      if failed { $0.failed += 1 } else { $0.done += 1 }
    }
  }

  /// Prints `text` above the line, which is drawn again under it.
  func note(_ text: String) {
    counts.withLock { c in
      Output.out("\r\u{1B}[2K" + (text.hasSuffix("\n") ? text : text + "\n"))
      c.shown = false
    }
    draw(force: true)
  }

  /// Stops the ticker and leaves the final figures on their own line.
  func finish() {
    ticker.withLock {
      $0?.cancel()
      $0 = nil
    }
    // Nothing counted (a destroy that found nothing): the line goes instead.
    let counted = counts.withLock { $0.total + $0.done + $0.failed > 0 }
    if counted { draw(force: true) }
    counts.withLock { c in
      if c.shown { Output.out(counted ? "\n" : "\r\u{1B}[2K") }
      c.shown = false
    }
  }

  /// How a failed step is said, whatever the progress mode.
  static func failure(_ step: Step, after: Duration, _ error: any Error) -> String {
    "\(step.target): \(step.action.rawValue) failed after \(Seconds(after)): \(error)"
  }

  private func update(force: Bool = false, _ change: (inout Counts) -> Void) {
    counts.withLock { change(&$0) }
    draw(force: force)
  }

  private func draw(force: Bool) {
    counts.withLock { c in
      let now = ContinuousClock.now
      guard force || now - c.lastDraw >= .milliseconds(100) else { return }
      c.lastDraw = now
      var line = "\(verb)  \(c.done)" + (c.total > 0 ? "/\(c.total)" : "") + " \(unit)"
      if c.failed > 0 { line += " · " + paint("\(c.failed) failed", code: "31") }
      if c.running > 0 { line += " · \(c.running) running" }
      line += " · " + Seconds(now - start).description
      Output.out("\r\u{1B}[2K" + line)
      c.shown = true
    }
  }

  private func paint(_ text: String, code: String) -> String {
    colours ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
  }
}

/// `apply --progress tty`: the steps feed one ``ProgressLine``; a failed step
/// and a fresh plan are still said in full, above it.
struct ProgressLineObserver: ApplyObserver {
  let line: ProgressLine

  func started(_ step: Step) { line.started() }
  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    if let error { line.note(ProgressLine.failure(step, after: after, error)) }
    line.finished(failed: error != nil)
  }
  func replanned(_ plan: Orchestrator.Plan) {
    line.note("The fixture changed while this plan was shown; applying the fresh plan instead:\n\n" + PlanRenderer.text(plan))
    line.set(total: plan.steps.count)
  }
  func retrying(_ plan: Orchestrator.Plan, after failures: [(target: String, error: any Error)]) {
    line.note(
      "\(failures.map(\.target).joined(separator: ", ")): a fresh look at the fixture can repair this; applying:\n\n" + PlanRenderer.text(plan))
    line.add(total: plan.steps.count)
  }
  func remade(_ step: Step, because error: any Error) {
    line.note("\(step.target): the engine would not start its container (\(error)); made a new one")
  }
}

/// `apply --progress none`: only failures, said in full.
struct QuietObserver: ApplyObserver {
  func started(_ step: Step) {}
  func finished(_ step: Step, after: Duration, error: (any Error)?) {
    if let error { Output.out(ProgressLine.failure(step, after: after, error) + "\n") }
  }
}

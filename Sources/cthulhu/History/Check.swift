import ArgumentParser
import Foundation
import History
import Manifest
import Orchestrator

extension Cthulhu {
  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Check that a history of client operations is linearizable.",
      discussion: """
        Exit status: 0 linearizable, 2 not linearizable, 1 when the history is \
        malformed or --timeout ran out (the verdict is then "unknown", never a guess). \
        A violation is explained in words, and drawn as a timeline in HISTORY.html.
        """)

    @Argument(help: "The history (default: the fixture's history.jsonl).") var history: String?
    @OptionGroup var locator: FixtureLocator
    @Option(help: "register, cas-register, kv, list-append or rw-register (default: kv when operations have keys, else cas-register).")
    var model: String?
    @OptionGroup(title: "Transactions (list-append, rw-register)") var transactions: TransactionOptions
    @Flag(help: "Print the verdict as JSON (list-append, rw-register).") var json = false
    @Option(help: ArgumentHelp("Give up after this long and answer unknown (500ms, 30s, 2m).", valueName: "duration"))
    var timeout: String?
    @Option(help: ArgumentHelp("Where to draw a violation (default: HISTORY.html; a .svg path writes a bare SVG).", valueName: "path"))
    var picture: String?
    @Flag(help: "Draw no picture.") var noPicture = false

    func validate() throws {
      if let model, ModelKind(rawValue: model) == nil, !TransactionChecks.models.contains(model) {
        throw ValidationError("--model takes register, cas-register, kv, list-append or rw-register (got '\(model)').")
      }
      if let timeout, Units.duration(timeout).map({ $0 > .zero }) != true {
        throw ValidationError("--timeout takes a duration such as 500ms, 30s or 2m (got '\(timeout)').")
      }
    }

    func run() async throws {
      let path = try history ?? FixturePaths(root: locator.root()).history
      if let model, TransactionChecks.models.contains(model) { return try transactions.run(path: path, model: model, json: json) }
      let started = ContinuousClock.now
      let parsed: History
      let report: CheckReport
      do {
        parsed = try History(contentsOf: path)
        let deadline = timeout.flatMap(Units.duration).map { started + $0 }
        let kind = model.flatMap(ModelKind.init(rawValue:)) ?? .inferred(from: parsed.operations)
        report = try Checker.check(parsed, model: kind, options: .init(deadline: deadline))
      } catch {
        Output.error("\(error)")
        throw ExitCode.failure
      }
      let took = ContinuousClock.now - started
      let text = CheckText(history: parsed, report: report, file: path, took: took)
      Output.out(text.verdictLine + "\n")
      switch report.verdict {
      case .linearizable: return
      case .unknown: throw ExitCode.failure
      case .notLinearizable: break
      }
      var words = text.violation()
      if !noPicture, let v = report.violation {
        let target = picture ?? path + ".html"
        let drawing = Timeline(history: parsed, violation: v, model: report.model, title: (path as NSString).lastPathComponent)
        let contents = target.hasSuffix(".svg") ? drawing.svg() : drawing.html(verdict: text.verdictLine, words: words)
        do {
          try contents.write(toFile: target, atomically: true, encoding: .utf8)
          words += "Picture: \(target)\n"
        } catch {
          Output.error("error: cannot write the picture to \(target): \(error.localizedDescription)")
        }
      }
      Output.out("\n" + words)
      throw ExitCode(2)
    }
  }
}

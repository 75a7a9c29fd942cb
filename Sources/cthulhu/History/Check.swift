import ArgumentParser
import Foundation
import History
import Manifest
import Orchestrator

extension Cthulhu {
  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check",
      abstract: "Check a history of client operations against a model.",
      discussion: """
        Exit status: 0 valid (linearizable), 2 invalid, 1 when the history is malformed \
        or the verdict is unknown (--timeout ran out, or the model cannot decide: never a guess). \
        A linearizability violation is explained in words, and drawn as a timeline in HISTORY.html; \
        a transaction history's anomalies (list-append, rw-register) are, with a picture of each cycle.
        """)

    @Argument(help: "The history: JSON Lines, or elle-cli's JSON array (default: the fixture's history.jsonl).") var history: String?
    @OptionGroup var locator: FixtureLocator
    @Option(help: "\(ModelName.list) (default: kv when operations have keys, else cas-register).")
    var model: String?
    @Flag(help: "Print the verdict as one JSON object ({\"formatVersion\": 1, \"valid\": true|false|\"unknown\", \"model\": …}).")
    var json = false
    @OptionGroup(title: "Transactions (list-append, rw-register)") var transactions: TransactionOptions
    @Option(help: ArgumentHelp("Give up after this long and answer unknown (500ms, 30s, 2m).", valueName: "duration"), transform: Parse.duration)
    var timeout: Duration?
    @OptionGroup var modelOptions: CheckModelOptions
    @Option(
      help: ArgumentHelp(
        "Where to draw a violation (default: HISTORY.html; a .svg path writes a bare SVG: the first cycle's, for transactions).", valueName: "path"))
    var picture: String?
    @Flag(help: "Draw no picture.") var noPicture = false

    func validate() throws {
      if let model, ModelName(rawValue: model) == nil {
        throw ValidationError("--model takes one of \(ModelName.list) (got '\(model)').")
      }
      try modelOptions.validate()
    }

    func run() async throws {
      let path = try history ?? FixturePaths(root: locator.root()).history
      if let model, TransactionChecks.models.contains(model) {
        return try transactions.run(path: path, model: model, json: json, picture: noPicture ? nil : picture ?? path + ".html")
      }
      let started = ContinuousClock.now
      let parsed: History
      let verdict: Verdict
      var reading = Duration.zero
      do {
        parsed = KeepUntilExit.keep(try History(contentsOf: path))
        reading = ContinuousClock.now - started
        var options = modelOptions.options
        options.deadline = timeout.map { started + $0 }
        let name = model.flatMap(ModelName.init(rawValue:)) ?? ModelName(rawValue: ModelKind.inferred(from: parsed.operations).rawValue)!
        verdict = try ModelCheck.check(history: parsed, model: name, options: options)
      } catch {
        Output.error("\(error)")
        throw ExitCode.failure
      }
      let took = ContinuousClock.now - started
      if json {
        Output.out(verdict.json + "\n")
      } else if let report = verdict.linearizability {
        explain(report, parsed, path: path, took: took)
      } else {
        Output.out(CheckText.verdictLine(verdict, file: path, took: took, reading: reading) + "\n")
        if !verdict.lines.isEmpty { Output.out("\n" + verdict.lines.map { $0 + "\n" }.joined()) }
      }
      switch verdict.valid {
      case .valid: return
      case .unknown: throw ExitCode.failure
      case .invalid: throw ExitCode(2)
      }
    }

    /// A linearizability verdict in words, and its picture.
    private func explain(_ report: CheckReport, _ parsed: History, path: String, took: Duration) {
      let text = CheckText(history: parsed, report: report, file: path, took: took)
      Output.out(text.verdictLine + "\n")
      guard report.verdict == .notLinearizable else { return }
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
    }
  }
}

/// The options of particular models (each ignored by the others), spelled
/// as elle-cli spells them where it has them.
struct CheckModelOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "register, cas-register: the value it holds first, as JSON (default null); multi-register: an object of keys to values.", valueName: "json"))
  var initialValue: String?
  @Option(name: [.customLong("total"), .customLong("total-amount")], help: "bank: the total every read must show (default: the first read's).")
  var total: Int64?
  @Flag(name: [.customLong("negative-balances"), .customLong("allow-negative-balances")], help: "bank: allow negative balances.")
  var negativeBalances = false
  @Option(help: "long-fork: how many keys each read reads (default: the first read's count).")
  var groupSize: Int?
  @Flag(help: "set-full: a stale element (missing from a read begun after it was known) makes the history invalid.")
  var linearizable = false

  func validate() throws {
    if let initialValue, HistoryValue(json: initialValue) == nil {
      throw ValidationError("--initial-value takes a JSON value such as 0, null, \"x\" or {\"k\": 1} (got '\(initialValue)').")
    }
    if let groupSize, groupSize < 1 { throw ValidationError("--group-size takes a positive number of keys (got \(groupSize)).") }
  }

  var options: CheckOptions {
    CheckOptions(
      initialValue: initialValue.flatMap { HistoryValue(json: $0) }, total: total, negativeBalances: negativeBalances, groupSize: groupSize,
      linearizable: linearizable)
  }
}

import ArgumentParser
import Foundation
import History
import Manifest

/// `cthulhu check --model list-append|rw-register`: Elle's options, spelt as elle-cli spells them.
struct TransactionOptions: ParsableArguments {
  @Option(
    help: ArgumentHelp(
      "list-append, rw-register: the consistency models the history must hold to, comma-separated (default strict-serializable; none: only --anomalies).",
      valueName: "models"))
  var consistencyModels: String?
  @Option(help: ArgumentHelp("list-append, rw-register: anomalies to look for besides, comma-separated (G1c,G2-item,…).", valueName: "anomalies"))
  var anomalies: String?
  @Option(
    help: ArgumentHelp(
      "list-append, rw-register: how long to search one component for each cycle type (milliseconds, or 2s; default 1000).", valueName: "ms"))
  var cycleSearchTimeout: String?
  @Flag(help: "rw-register: assume each key is linearizable, and infer version orders from real time.") var linearizableKeys = false
  @Flag(help: "rw-register: assume each key is sequentially consistent, and infer version orders from each process's order.")
  var sequentialKeys = false
  @Flag(help: "rw-register: assume writes follow reads in a transaction, and infer version orders from that.") var wfrKeys = false

  static func list(_ text: String?) -> [String]? {
    text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).trimmingPrefix(":") }.map(String.init) }
  }

  func validate() throws { _ = try options() }

  func options() throws -> TransactionCheckOptions {
    var o = TransactionCheckOptions()
    if let models = Self.list(consistencyModels) {
      o.consistencyModels = models == ["none"] ? [] : models
      for m in o.consistencyModels where !ConsistencyModels.all.contains(m) {
        throw ValidationError("--consistency-models: unknown model '\(m)'. Known: \(ConsistencyModels.all.sorted().joined(separator: ", ")).")
      }
    }
    o.anomalies = Self.list(anomalies) ?? []
    if let t = cycleSearchTimeout {
      guard let d = Int(t).map({ Duration.milliseconds($0) }) ?? Units.duration(t), d > .zero else {
        throw ValidationError("--cycle-search-timeout takes milliseconds (1000) or a duration (2s) (got '\(t)').")
      }
      o.cycleSearchTimeout = d
    }
    (o.linearizableKeys, o.sequentialKeys, o.wfrKeys) = (linearizableKeys, sequentialKeys, wfrKeys)
    return o
  }

  /// Checks a transaction history and prints the verdict; exits 0 valid, 2 invalid, 1 unknown or malformed.
  /// Unless valid (or `json`), writes the words and a picture of each cycle to `picture` (HTML, or the first cycle's SVG).
  func run(path: String, model: String, json: Bool, picture: String?) throws {
    let report: TransactionReport
    do {
      let options = try options()
      report = try TransactionChecks.check(KeepUntilExit.keep(try History(contentsOf: path)), model: model, options: options)
    } catch let error as ValidationError {
      throw error
    } catch {
      Output.error("\(error)")
      throw ExitCode.failure
    }
    if json {
      Output.out(report.json + "\n")
    } else {
      Output.out(report.verdictLine + "\n" + report.text)
      if let picture, report.valid != .valid { draw(report, path: path, to: picture) }
    }
    switch report.valid {
    case .valid: return
    case .invalid: throw ExitCode(2)
    case .unknown: throw ExitCode.failure
    }
  }

  private func draw(_ report: TransactionReport, path: String, to target: String) {
    let contents: String
    if target.hasSuffix(".svg") {
      guard let first = report.cyclePictures.first else { return }
      contents = first.svg()
    } else {
      contents = report.html(title: (path as NSString).lastPathComponent)
    }
    do {
      try contents.write(toFile: target, atomically: true, encoding: .utf8)
      Output.out("\nPicture: \(target)\n")
    } catch {
      Output.error("error: cannot write the picture to \(target): \(error.localizedDescription)")
    }
  }
}

import ArgumentParser
import Foundation
import Manifest
import Orchestrator

extension Cthulhu {
  struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Show what `apply` would change in the fixture, and why. Changes nothing.",
      discussion: """
        With --against OLD or --against-git REV, the plan is of a manifest change, as a \
        reviewer reads it: what applying this manifest does to a fixture applied from the \
        old version. It needs no engine and no fixture.

        Exit codes: 0 success (with --detailed-exitcode: no changes), 1 error, \
        2 changes present (with --detailed-exitcode). --against and --against-git \
        always use these detailed exit codes.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, markdown }

    @OptionGroup var input: ManifestArgument
    @Flag(help: "Print the plan as versioned JSON (the same as --format json).") var json = false
    @Option(help: "text, json (versioned), or markdown (for a pull-request comment).") var format: Format?
    @Flag(help: "Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.")
    var detailedExitcode = false
    @Option(help: "Also save the plan to FILE, for `cthulhu apply FILE`.") var out: String?
    @Option(help: ArgumentHelp("Plan the change from this older version of the manifest (no engine, no fixture).", valueName: "old.yaml"))
    var against: String?
    @Option(
      name: .customLong("against-git"),
      help: ArgumentHelp("Plan the change from the manifest as it was at this git revision (HEAD~1, origin/main).", valueName: "rev"))
    var againstGit: String?
    @Option(help: "Draw the plan instead (mermaid, dot or svg): each instance coloured by what apply does to it.")
    var graph: GraphFormat?

    func validate() throws {
      if against != nil && againstGit != nil { throw ValidationError("Please give --against or --against-git, not both.") }
      if json && format != nil && format != .json { throw ValidationError("Please give --json or --format, not both.") }
      if graph != nil && (against != nil || againstGit != nil || format != nil || json) {
        throw ValidationError("--graph draws a plan against the fixture; give it without --against, --format or --json.")
      }
      if out != nil && (against != nil || againstGit != nil) {
        throw ValidationError("A plan of a manifest change is for review; --out saves plans made against a fixture.")
      }
    }

    func run() async throws {
      let manifest = try input.load()
      let format = self.format ?? (json ? .json : .text)
      if against != nil || againstGit != nil {
        return try await failing { try await planChange(manifest, format: format) }
      }
      let planned = try await failing {
        try await Input.withDriver(manifest.driver) { try await FixtureController(driver: $0, executable: .current).plan(manifest) }
      }
      var plan = planned.plan
      let timeline = manifest.nemesis.map { NemesisTimeline(manifest: manifest, schedule: $0) }
      plan.nemesis = timeline?.plan()
      plan.workloads = manifest.workloads.isEmpty ? nil : manifest.workloads.map(WorkloadPlan.init)
      if let graph {
        Output.out(try graph.render(Topology.planned(planned)))
      } else {
        try print(plan, format: format, title: input.manifest ?? manifest.path)
      }
      if graph == nil, format == .text, let timeline {
        Output.out("\n" + timeline.summary())
      }
      if graph == nil, format == .text, !manifest.workloads.isEmpty {
        Output.out("\n" + WorkloadText.summary(manifest.workloads))
      }
      if let out {
        try PlanRenderer.json(plan).write(toFile: out, atomically: true, encoding: .utf8)
        if format != .json { Output.out("Saved the plan to \(out): apply it with `cthulhu apply \(out)`.\n") }
      }
      if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
    }

    /// `--against` / `--against-git`: two versions of the manifest, no engine.
    func planChange(_ manifest: Manifest, format: Format) async throws {
      let old: Manifest?
      var title = input.manifest ?? (manifest.path as NSString).lastPathComponent
      if let against {
        old = try Input.manifest(at: against)
        title = "\(against) → \(title)"
      } else {
        // A folder made new here (mkdtemp), so the removal takes nothing that was there before.
        var template = Array((NSTemporaryDirectory() + "cthulhu-plan.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CLIError("cannot make a scratch folder: \(String(cString: strerror(errno)))") }
        let scratch = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let source = try await ManifestDiff.atGitRevision(againstGit!, of: manifest, scratch: scratch)
        old = source.manifest
        title = "\(source.path) since \(source.revision)" + (old == nil ? " (a new manifest)" : "")
        let plan = try ManifestDiff.plan(old: old, new: manifest)
        try print(plan, format: format, title: title)
        if plan.hasChanges { throw ExitCode(2) }
        return
      }
      let plan = try ManifestDiff.plan(old: old, new: manifest)
      try print(plan, format: format, title: title)
      if plan.hasChanges { throw ExitCode(2) }
    }

    func print(_ plan: Orchestrator.Plan, format: Format, title: String) throws {
      switch format {
      case .text: Output.out(PlanRenderer.text(plan))
      case .json: Output.out(try PlanRenderer.json(plan))
      case .markdown: Output.out(PlanRenderer.markdown(plan, title: title))
      }
    }
  }
}

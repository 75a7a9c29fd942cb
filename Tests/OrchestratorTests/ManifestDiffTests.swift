import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// Plans of a manifest change (issue 18): two versions of a manifest, no
/// engine, no fixture; whole plans asserted as text and markdown, and the
/// same plan as `apply` makes for a fixture applied from the old version.
final class ManifestDiffTests: XCTestCase {
  var dir = ""

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-diff-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
    try template("{\"self\": \"{{ instance.ip }}\",\n \"peers\": [\n{% for p in peers %}  \"{{ p.ip }}\"\n{% endfor %}]}\n")
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func template(_ text: String) throws {
    try text.write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
  }

  /// A manifest file `name` in the temp folder; `groups` is YAML under `groups:`.
  func manifest(_ name: String, subnet: String = "172.28.5.0/24", groups: String) throws -> Manifest {
    let path = dir + "/" + name
    try """
    fixture: kv
    network: { subnet: \(subnet) }
    groups:
    \(groups)
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return try ManifestLoader.load(path: path)
  }

  func nodes(count: Int, image: String = "app:1") -> String {
    """
      node:
        image: \(image)
        count: \(count)
        templates:
          - { source: templates/config.json, target: etc/config.json }

    """
  }

  func text(_ plan: Plan) -> String { PlanRenderer.text(plan).replacingOccurrences(of: dir, with: "$DIR") }

  func testScaleUpAddsTheLowestFreeNamesAndChangesThePeersOfTheRest() throws {
    let plan = try ManifestDiff.plan(old: manifest("old.yaml", groups: nodes(count: 3)), new: manifest("new.yaml", groups: nodes(count: 5)))
    XCTAssertEqual(
      text(plan),
      """
      cthulhu will make these changes to fixture 'kv' ($DIR/cthulhu-fixture):

        ~   instance:i001  update (restart)
              # etc/config.json changed
        ~   instance:i002  update (restart)
              # etc/config.json changed
        ~   instance:i003  update (restart)
              # etc/config.json changed
        +   instance:i004  create
              # new instance 172.28.5.5 in group 'node'
        +   instance:i005  create
              # new instance 172.28.5.6 in group 'node'

      i001 (first of group 'node'), etc/config.json:
      --- a/etc/config.json
      +++ b/etc/config.json
      @@ -2,4 +2,6 @@
        "peers": [
         "172.28.5.3"
         "172.28.5.4"
      +  "172.28.5.5"
      +  "172.28.5.6"
       ]}

      Plan: 2 to add, 3 to change, 0 to destroy.

      """)
  }

  func testScaleDownRemovesTheHighest() throws {
    let plan = try ManifestDiff.plan(old: manifest("old.yaml", groups: nodes(count: 3)), new: manifest("new.yaml", groups: nodes(count: 2)))
    XCTAssertEqual(
      plan.steps.map { "\($0.target) \($0.action.rawValue) \($0.reasons.joined(separator: "; "))" },
      [
        "instance:i001 update etc/config.json changed",
        "instance:i002 update etc/config.json changed",
        "instance:i003 delete group 'node' scaled down to 2",
      ])
    XCTAssertEqual(plan.summary, Plan.Summary(add: 0, change: 2, destroy: 1))
  }

  func testAnImageBumpReplacesEveryInstanceOfTheGroup() throws {
    let plan = try ManifestDiff.plan(
      old: manifest("old.yaml", groups: nodes(count: 2)), new: manifest("new.yaml", groups: nodes(count: 2, image: "app:2")))
    XCTAssertEqual(
      plan.steps.map { "\($0.target) \($0.action.rawValue) \($0.reasons.joined(separator: "; "))" },
      [
        "instance:i001 replace image app:1 → app:2",
        "instance:i002 replace image app:1 → app:2",
      ])
    XCTAssertEqual(plan.fileDiffs, [], "the files do not change")
  }

  func testATemplateChangeUpdatesWithAFileDiff() throws {
    let old = try manifest("cthulhu.yaml", groups: nodes(count: 2))
    let before = try ManifestDiff.plan(old: old, new: old)
    XCTAssertFalse(before.hasChanges)
    // The template is read when the manifest is resolved: resolve the old one first.
    let oldFixture = try Resolver(manifest: old, previous: nil).resolve()
    try template("{\"self\": \"{{ instance.ip }}\", \"name\": \"{{ instance.name }}\"}\n")
    let newFixture = try Resolver(manifest: old, previous: ManifestDiff.applied(oldFixture).state).resolve()
    var plan = try Planner.plan(desired: newFixture, observed: ManifestDiff.applied(oldFixture), manifest: old.path, basis: "")
    plan.fileDiffs = ManifestDiff.fileDiffs(plan: plan, before: oldFixture, after: newFixture)
    XCTAssertEqual(plan.steps.map(\.action), [.update, .update])
    XCTAssertEqual(plan.fileDiffs?.count, 1, "one diff for the first instance of the group")
    XCTAssertEqual(
      plan.fileDiffs?.first?.diff,
      """
      --- a/etc/config.json
      +++ b/etc/config.json
      @@ -1,4 +1,1 @@
      -{"self": "172.28.5.2",
      - "peers": [
      -  "172.28.5.3"
      -]}
      +{"self": "172.28.5.2", "name": "i001"}

      """)
  }

  func testANewSubnetReaddressesEveryInstance() throws {
    let plan = try ManifestDiff.plan(
      old: manifest("old.yaml", groups: nodes(count: 2)), new: manifest("new.yaml", subnet: "10.9.0.0/24", groups: nodes(count: 2)))
    XCTAssertEqual(
      plan.steps.map { "\($0.target) \($0.action.rawValue) \($0.reasons.joined(separator: "; "))" },
      [
        "network:cthulhu-kv replace subnet 172.28.5.0/24 → 10.9.0.0/24",
        "instance:i001 replace address 172.28.5.2 → 10.9.0.2",
        "instance:i002 replace address 172.28.5.3 → 10.9.0.3",
      ])
  }

  func testANewGroupWithDependsOnStartsAfterItsDependency() throws {
    let old = try manifest("old.yaml", groups: nodes(count: 2))
    let new = try manifest(
      "new.yaml",
      groups: nodes(count: 2) + """
          client:
            image: client:1
            depends_on: [node]

        """)
    let plan = try ManifestDiff.plan(old: old, new: new)
    XCTAssertEqual(
      plan.steps.map { "\($0.target) \($0.action.rawValue) [\($0.dependsOn.map(\.description).joined(separator: ","))]" },
      [
        "instance:i001 update []",
        "instance:i002 update []",
        "instance:i003 create [instance:i001,instance:i002]",
      ])
    let md = PlanRenderer.markdown(plan, title: "old.yaml → new.yaml")
    XCTAssertEqual(
      md.components(separatedBy: "\n<details>").first,
      """
      ### cthulhu plan: `old.yaml → new.yaml` (fixture `kv`)

      **Plan: 1 to add, 2 to change, 0 to destroy.**

      | | target | action | why |
      | --- | --- | --- | --- |
      | `~` | `instance:i001` | update (restart) | etc/config.json changed |
      | `~` | `instance:i002` | update (restart) | etc/config.json changed |
      | `+` | `instance:i003` | create | new instance 172.28.5.4 in group 'client' |

      """)
    XCTAssertTrue(
      md.contains("<summary><code>i001</code> (first of group <code>node</code>): <code>etc/config.json</code></summary>\n\n```diff\n"), md)
    XCTAssertEqual(PlanRenderer.markdown(plan, title: "old.yaml → new.yaml"), md, "deterministic")
    XCTAssertEqual(
      PlanRenderer.markdown(try ManifestDiff.plan(old: old, new: old), title: "x"),
      "### cthulhu plan: `x` (fixture `kv`)\n\nNo changes to the topology.\n")
  }

  /// What the review shows is what apply then does: the plan of the change
  /// equals the plan `apply` makes for a fixture applied from the old version.
  func testThePlanOfAChangeIsWhatApplyThenDoes() async throws {
    let cases: [(String, String, String)] = [
      ("scale up", nodes(count: 2), nodes(count: 4)),
      ("scale down", nodes(count: 3), nodes(count: 1)),
      ("image bump", nodes(count: 2), nodes(count: 2, image: "app:2")),
      ("new group", nodes(count: 2), nodes(count: 2) + "  client:\n    image: app:1\n    depends_on: [node]\n"),
    ]
    for (what, before, after) in cases {
      try? FileManager.default.removeItem(atPath: dir + "/cthulhu-fixture")
      let old = try manifest("old.yaml", groups: before)
      let new = try manifest("new.yaml", groups: after)
      let review = try ManifestDiff.plan(old: old, new: new)
      let o = FixtureController(driver: MemoryDriver(images: ["app:1", "app:2"]), executable: .neverRun)
      let r = try await o.apply(try await o.plan(old))
      XCTAssertTrue(r.failures.isEmpty, "\(what): \(r.failures)")
      let live = try await o.plan(new).plan
      // (The review knows no engine ids: what the steps act on is compared by kind.)
      let engineIDs = { (steps: [Step]) in
        steps.map { s -> Step in
          var s = s
          s.existing = s.existing.map { _ in "id" }
          s.detach = s.detach.map { $0.map { _ in "id" } }
          return s
        }
      }
      XCTAssertEqual(engineIDs(review.steps), engineIDs(live.steps), what)
    }
  }
}

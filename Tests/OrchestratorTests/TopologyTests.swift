import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// `cthulhu graph` and `plan --graph` (issue 17): what is drawn, in both
/// formats, for a manifest as planned, a fixture with faults in force, and
/// a plan's changes.
final class TopologyTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-graph-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func manifest(servers: Int = 3, clients: Int = 1) -> Manifest {
    let server = Group(name: "server", source: .image("app:1"), count: servers, command: ["/bin/sh", "-c", "sleep 1000"])
    let client = Group(name: "client", source: .image("app:1"), count: clients, command: ["/bin/sh"], dependsOn: ["server"])
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.5.0/24")), groups: [server, client])
  }

  func fault(_ id: String, _ kind: Fault.Kind, _ targets: [String], _ edit: (inout Fault) -> Void = { _ in }) -> Fault {
    var f = Fault(id: id, kind: kind, targets: targets)
    edit(&f)
    return f
  }

  func testAManifestAsPlannedHasItsGroupsAddressesAndDependsOn() throws {
    let t = try Topology.planned(manifest())
    let m = TopologyRenderer.mermaid(t)
    XCTAssertTrue(m.contains("subgraph g_server[\"server (3)\"]"), m)
    XCTAssertTrue(m.contains("i001[\"i001<br/>172.28.5.2\"]"), m)
    XCTAssertTrue(m.contains("i004[\"i004<br/>172.28.5.5\"]"), m)
    XCTAssertTrue(m.contains("g_client -->|depends_on| g_server"), m)
    XCTAssertTrue(m.contains("net((\"cthulhu-kv<br/>172.28.5.0/24\"))"), m)
    XCTAssertFalse(m.contains("x--x"), "no fault as planned")
    let d = TopologyRenderer.dot(t)
    XCTAssertTrue(d.contains("subgraph \"cluster_server\""), d)
    XCTAssertTrue(d.contains("\"i001\" [label=\"i001\\n172.28.5.2\"]"), d)
    XCTAssertTrue(d.contains("ltail=\"cluster_client\", lhead=\"cluster_server\""), d)
  }

  func testFaultsInForceAreDrawn() throws {
    var t = try Topology.planned(manifest())
    t.instances[2].state = "exited"
    t.faults = [
      fault("f1", .partition, ["i001", "i002", "i003"]) {
        $0.grudge = ["i001": ["i002", "i003"], "i002": ["i001"], "i003": ["i001"]]
        $0.sets = [["i001"], ["i002", "i003"]]
      },
      fault("f2", .isolate, ["i004"]),
      fault("f3", .delay, ["i002"]) {
        $0.delayMs = 80
        $0.jitterMs = 10
      },
      fault("f4", .loss, ["i002"]) { $0.lossPercent = 30 },
    ]
    var dup = t
    dup.faults = [
      fault("f5", .duplicate, ["i001"]) { $0.duplicatePercent = 20 },
      fault("f6", .delay, ["i003"]) {
        $0.delayMs = 50
        $0.reorderPercent = 25
      },
    ]
    let dm = TopologyRenderer.mermaid(dup)
    XCTAssertTrue(dm.contains("i001 ---|\"f5 duplicate 20%\"| net"), dm)
    XCTAssertTrue(dm.contains("i003 ---|\"f6 delay 50ms reorder 25%\"| net"), dm)
    let m = TopologyRenderer.mermaid(t)
    // Whole sets cut from each other: one ✂ node, each member linked to it.
    XCTAssertTrue(m.contains("cut_f1{{\"✂ f1 partition<br/>{i001} | {i002,i003}\"}}"), m)
    for n in ["i001", "i002", "i003"] { XCTAssertTrue(m.contains("\(n) -.-x cut_f1"), m) }
    XCTAssertTrue(m.contains("class cut_f1 cut"), m)
    XCTAssertTrue(m.contains("i004 x--x|\"✂ f2 isolate\"| net"), m)
    XCTAssertTrue(m.contains("i002 ---|\"f3 delay 80ms ±10ms, f4 loss 30%\"| net"), m)
    XCTAssertTrue(m.contains("class i004 isolated"), m)
    XCTAssertTrue(m.contains("class i003 down"), m)
    XCTAssertTrue(m.contains("i003[\"i003<br/>172.28.5.4<br/>(exited)\"]"), m)
    XCTAssertTrue(m.contains("4 faults in force"), m)
    // Every link that carries a fault is red: the two cuts, the isolated and the delayed link.
    XCTAssertEqual(m.split(separator: "\n").filter { $0.contains("linkStyle") && $0.contains("stroke:#c0392b") }.count, 5, m)
    let d = TopologyRenderer.dot(t)
    XCTAssertTrue(d.contains("\"cut_f1\" [shape=octagon"), d)
    XCTAssertTrue(d.contains("\"i002\" -- \"cut_f1\" [color=\"#c0392b\""), d)
    XCTAssertTrue(d.contains("\"i004\" -- \"net\" [label=\"✂ f2 isolate\""), d)
  }

  /// A link fault (a delay between two sets) is one node its members link
  /// to, carrying the figures; a clock skew is written on the instance's link.
  func testALinkDelayAndAClockSkewAreDrawn() throws {
    var t = try Topology.planned(manifest(servers: 4, clients: 0))
    t.faults = [
      fault("f1", .delay, ["i001", "i002", "i003", "i004"]) {
        $0.delayMs = 80
        $0.between = [["i001", "i002"], ["i003", "i004"]]
      },
      fault("f2", .loss, ["i001"]) { $0.lossPercent = 5 },
      fault("f3", .clock, ["i004"]) { $0.skewSeconds = 5 },
    ]
    let m = TopologyRenderer.mermaid(t)
    XCTAssertTrue(m.contains("link_f1([\"f1 delay 80ms<br/>{i001,i002} ↔ {i003,i004}\"])"), m)
    for n in ["i001", "i002", "i003", "i004"] { XCTAssertTrue(m.contains("\(n) -.- link_f1"), m) }
    XCTAssertTrue(m.contains("i001 ---|\"f2 loss 5%\"| net"), "a loss without between stays on the instance's link: \(m)")
    XCTAssertTrue(m.contains("i004 ---|\"f3 clock +5s\"| net"), m)
    XCTAssertTrue(TopologyRenderer.dot(t).contains("\"link_f1\" [shape=box"), TopologyRenderer.dot(t))
  }

  /// A partition that is not of whole sets (a majorities ring: each drops
  /// the two it is farthest from) is drawn link by link.
  func testAPartitionOfNoWholeSetsIsDrawnLinkByLink() throws {
    var t = try Topology.planned(manifest(servers: 5, clients: 0))
    t.faults = [
      fault("f1", .partition, ["i001", "i002", "i003", "i004", "i005"]) {
        $0.grudge = [
          "i001": ["i003", "i004"], "i002": ["i004", "i005"], "i003": ["i005", "i001"], "i004": ["i001", "i002"], "i005": ["i002", "i003"],
        ]
        $0.shape = "majorities-ring"
      }
    ]
    let m = TopologyRenderer.mermaid(t)
    XCTAssertFalse(m.contains("cut_f1"), m)
    XCTAssertEqual(m.components(separatedBy: "x--x|\"✂ f1\"|").count - 1, 5, m)
    XCTAssertTrue(m.contains("i001 x--x|\"✂ f1\"| i003"), m)
    XCTAssertFalse(m.contains("i001 x--x|\"✂ f1\"| i002"), "neighbours in the ring still talk")
  }

  func testALargePartitionIsOneNote() throws {
    var t = try Topology.planned(manifest(servers: 20, clients: 0))
    let names = t.instances.map(\.name)
    let (a, b) = (Array(names.prefix(10)), Array(names.suffix(10)))
    t.faults = [
      fault("f1", .partition, names) {
        $0.grudge = Dictionary(uniqueKeysWithValues: a.map { ($0, b) } + b.map { ($0, a) })
        $0.grudge![a[0]]!.removeLast()  // not whole sets: drawn link by link, or as a note
        $0.shape = "halves"
      }
    ]
    let m = TopologyRenderer.mermaid(t)
    XCTAssertFalse(m.contains("x--x"), "100 cut links are not drawn one by one")
    XCTAssertTrue(m.contains("note0[/\"✂ partition (halves)"), m)
    XCTAssertTrue(m.contains("links cut)"), m)
  }

  func testAPlanMarksWhatItDoesToEachInstance() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver, executable: .neverRun)
    let r = try await o.apply(try await o.plan(manifest(servers: 3, clients: 1)))
    XCTAssertTrue(r.failures.isEmpty, "\(r.failures)")
    // One server fewer: i003 goes.
    var t = Topology.planned(try await o.plan(manifest(servers: 2, clients: 1)))
    var marks = Dictionary(uniqueKeysWithValues: t.instances.map { ($0.name, $0.change) })
    XCTAssertEqual(marks["i001"], .some(nil))
    XCTAssertEqual(marks["i003"], .removed)
    var m = TopologyRenderer.mermaid(t)
    XCTAssertTrue(m.contains("class i003 removed"), m)
    XCTAssertFalse(m.contains("i003 ---"), "a removed instance has no link")
    XCTAssertTrue(m.contains("subgraph g_server[\"server (2)\"]"), m)
    // One server more: i005 comes.
    t = Topology.planned(try await o.plan(manifest(servers: 4, clients: 1)))
    marks = Dictionary(uniqueKeysWithValues: t.instances.map { ($0.name, $0.change) })
    XCTAssertEqual(marks["i005"], .added)
    m = TopologyRenderer.mermaid(t)
    XCTAssertTrue(m.contains("class i005 added"), m)
    XCTAssertTrue(TopologyRenderer.dot(t).contains("\"i005\" [label=\"i005\\n172.28.5.6\\n[added]\", fillcolor=\"#e6f4ea\""), TopologyRenderer.dot(t))
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The state journal: an apply appends one line per change after a
/// snapshot, and loading replays it. A cthulhu killed at any point leaves
/// a snapshot and a journal whose last line may be torn; loading must give
/// the state as of the last whole line.
final class StateJournalTests: XCTestCase {
  var root = ""
  let subnet = IPv4Network("10.3.0.0/24")!

  override func setUp() {
    root = NSTemporaryDirectory() + "cthulhu-journal-\(UUID().uuidString.prefix(8))"
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: root)
  }

  func record(_ ordinal: Int) -> InstanceRecord {
    InstanceRecord(
      name: InstanceName.make(ordinal), group: "g", ip: subnet.host(ordinal - 1), containerID: "c\(ordinal)",
      specHash: "s\(ordinal)", filesHash: "f\(ordinal)", files: ["etc/config.json": "h\(ordinal)"])
  }

  /// What a load must reproduce (the time of the last change and the journal's name aside).
  func comparable(_ s: FixtureState) -> FixtureState {
    var s = s
    s.updatedAt = nil
    s.journal = nil
    return s
  }

  func load() throws -> FixtureState { try XCTUnwrap(try FixtureState.load(root: root)) }

  var journalFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root + "/.cthulhu")) ?? []).filter { $0.hasPrefix("journal-") }.sorted()
  }

  /// The snapshot as written, its journal not replayed.
  func snapshot() throws -> FixtureState {
    try JSONDecoder.cthulhu.decode(FixtureState.self, from: try Data(contentsOf: URL(fileURLWithPath: root + "/.cthulhu/state.json")))
  }

  func testReplayGivesTheStateTheStoreHoldsAndCompactionWritesItWhole() async throws {
    let store = StateStore(FixtureState(fixture: "j", root: root, driver: .process))
    let subnet = subnet
    try await store.update {
      $0.subnet = subnet; $0.claim(["control", "spec.json"])
    }
    for i in [3, 1, 2, 5, 4] { try await store.upsert(record(i)) }
    try await store.updateInstance(named: "i002") { $0.ports = [PortBinding(container: 80, host: 30080)] }
    try await store.removeInstance("i004")
    try await store.update { $0.networkID = "n1" }

    // Steps appended lines; the snapshot was written once, before any record.
    XCTAssertEqual(try snapshot().instances, [])
    XCTAssertEqual(journalFiles.count, 1)
    let loaded = try load()
    let held = await store.state
    XCTAssertEqual(comparable(loaded), comparable(held))
    XCTAssertEqual(loaded.instances.map(\.name), ["i001", "i002", "i003", "i005"])
    XCTAssertEqual(loaded.instance(named: "i002")?.ports, [PortBinding(container: 80, host: 30080)])
    XCTAssertEqual(loaded.networkID, "n1")

    try await store.compact()
    XCTAssertEqual(journalFiles, [], "compaction removes the journal")
    XCTAssertNil(try snapshot().journal)
    XCTAssertEqual(comparable(try snapshot()), comparable(held), "the snapshot is the whole state again")
  }

  func testEveryCutOfTheJournalLoadsTheStateOfItsLastWholeLine() async throws {
    let store = StateStore(FixtureState(fixture: "j", root: root, driver: .process))
    let subnet = subnet
    try await store.update { $0.subnet = subnet }
    var after = [comparable(await store.state)]
    for i in 1...4 {
      try await store.upsert(record(i))
      after.append(comparable(await store.state))
    }
    try await store.removeInstance("i002")
    after.append(comparable(await store.state))
    try await store.update { $0.networkID = "n1" }
    after.append(comparable(await store.state))

    let path = StateJournal.path(root: root, id: try XCTUnwrap(try snapshot().journal))
    let whole = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertEqual(whole.filter { $0 == UInt8(ascii: "\n") }.count, after.count - 1)
    // A cthulhu killed mid-write leaves any prefix of the file.
    for cut in 0...whole.count {
      let prefix = whole.prefix(cut)
      try prefix.write(to: URL(fileURLWithPath: path))
      let lines = prefix.filter { $0 == UInt8(ascii: "\n") }.count
      XCTAssertEqual(comparable(try load()), after[lines], "journal cut after \(cut) bytes (\(lines) whole lines)")
    }
    // Garbage after the last whole line (a torn write) changes nothing, nor
    // does what follows a line that does not decode.
    var torn = whole
    torn.append(Data("{\"upsert\":{\"name\":\"i009\",\"gr".utf8))
    try torn.write(to: URL(fileURLWithPath: path))
    XCTAssertEqual(comparable(try load()), after.last)
    var bad = whole
    bad.append(Data("\0\0\0\n".utf8))
    bad.append(try StateJournal.line(.upsert(record(9))))
    try bad.write(to: URL(fileURLWithPath: path))
    XCTAssertEqual(comparable(try load()), after.last)
  }

  func testAJournalNoSnapshotNamesIsIgnoredAndRemoved() async throws {
    let store = StateStore(FixtureState(fixture: "j", root: root, driver: .process))
    try await store.upsert(record(1))
    try await store.compact()
    // A compaction killed after writing the snapshot, before removing the journal.
    let stale = StateJournal.path(root: root, id: "0123456789abcdef")
    try StateJournal.line(.upsert(record(2))).write(to: URL(fileURLWithPath: stale))
    XCTAssertEqual(try load().instances.map(\.name), ["i001"])
    let next = StateStore(try load())
    try await next.upsert(record(3))
    XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the next apply's snapshot removes it")
    XCTAssertEqual(try load().instances.map(\.name), ["i001", "i003"])
  }

  func testAWholeSaveFoldsTheJournalIn() async throws {
    let store = StateStore(FixtureState(fixture: "j", root: root, driver: .process))
    for i in 1...3 { try await store.upsert(record(i)) }
    // (An apply killed here; then `control start` records ports, destroy --keep-files, …)
    var s = try load()
    s.upsert(record(4))
    try s.save()
    XCTAssertEqual(journalFiles, [])
    XCTAssertNil(try snapshot().journal)
    XCTAssertEqual(try load().instances.map(\.name), ["i001", "i002", "i003", "i004"])
  }

  func testAJournalNameThatIsNotAnIDMakesTheStateUnreadable() throws {
    var s = FixtureState(fixture: "j", root: root, driver: .process)
    s.journal = "../../../etc/passwd"
    try s.write()
    XCTAssertThrowsError(try FixtureState.load(root: root)) { e in
      XCTAssertEqual((e as? OrchestratorError)?.code, .corruptState)
    }
  }

  func testRecordsStaySortedByOrdinalAndAreFoundByName() throws {
    var s = FixtureState(fixture: "j", root: root, driver: .process)
    let order = Array(1...40).shuffled()
    for i in order { s.upsert(record(i)) }
    XCTAssertEqual(s.instances.map(\.name), (1...40).map(InstanceName.make))
    for i in order { XCTAssertEqual(s.instance(named: InstanceName.make(i))?.containerID, "c\(i)") }
    XCTAssertNil(s.instance(named: "i01"), "not the name of i001")
    XCTAssertNil(s.instance(named: "i041"))
    XCTAssertNil(s.instance(named: "node"))
    var changed = record(7)
    changed.containerID = "new"
    s.upsert(changed)
    XCTAssertEqual(s.instances.count, 40)
    XCTAssertEqual(s.instance(named: "i007")?.containerID, "new")
    s.removeInstance("i001")
    s.removeInstance("i040")
    s.removeInstance("i020")
    XCTAssertEqual(s.instances.map(\.name), (2...39).filter { $0 != 20 }.map(InstanceName.make))

    // A file with its records out of order (written by hand) is sorted on load; one naming an instance twice is refused.
    s.instances.reverse()
    try s.save()
    XCTAssertEqual(try load().instances.map(\.name), (2...39).filter { $0 != 20 }.map(InstanceName.make))
    s.instances.append(record(5))
    try s.save()
    XCTAssertThrowsError(try FixtureState.load(root: root)) { e in
      XCTAssertEqual((e as? OrchestratorError)?.code, .corruptState)
      XCTAssertTrue("\(e)".contains("i005"), "\(e)")
    }
  }
}

import Foundation
import Manifest
import XCTest

@testable import Orchestrator

/// The apply's state store group-commits its saves; every update still
/// returns only once the file on disk holds its change.
final class StateStoreTests: XCTestCase {
  func testEveryUpdateIsOnDiskWhenItReturnsEvenWhenSavesAreShared() async throws {
    let root = NSTemporaryDirectory() + "cthulhu-store-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: root) }
    let store = StateStore(FixtureState(fixture: "s", root: root, driver: .docker))
    let subnet = IPv4Network("10.1.0.0/22")!
    let names = (1...200).map { InstanceName.make($0) }
    let seen = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
      for (i, name) in names.enumerated() {
        group.addTask {
          try await store.upsert(InstanceRecord(name: name, group: "g", ip: subnet.host(i)))
          // Returned: the file must hold this instance now.
          let onDisk = try FixtureState.load(root: root)?.instance(named: name) != nil
          return (name, onDisk)
        }
      }
      var out: [String: Bool] = [:]
      for try await (n, ok) in group { out[n] = ok }
      return out
    }
    XCTAssertEqual(seen.count, names.count)
    XCTAssertEqual(seen.filter { !$0.value }.keys.sorted(), [], "returned before its change was saved")
    let final = try XCTUnwrap(try FixtureState.load(root: root))
    XCTAssertEqual(final.instances.map(\.name), names)
  }

  func testAFailedSaveFailsTheUpdateAndALaterOneSucceeds() async throws {
    let base = NSTemporaryDirectory() + "cthulhu-store-\(UUID().uuidString.prefix(8))"
    defer { try? FileManager.default.removeItem(atPath: base) }
    // The fixture folder's parent is a file: no save can succeed.
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: base + "/blocked", contents: Data())
    let store = StateStore(FixtureState(fixture: "s", root: base + "/blocked/root", driver: .docker))
    do {
      try await store.update { $0.networkID = "n1" }
      XCTFail("a save into a file's path cannot succeed")
    } catch {}
    try FileManager.default.removeItem(atPath: base + "/blocked")
    try await store.update { $0.subnet = IPv4Network("10.2.0.0/24") }
    let saved = try XCTUnwrap(try FixtureState.load(root: base + "/blocked/root"))
    XCTAssertEqual(saved.networkID, "n1", "the change whose save failed is carried by the next save")
    XCTAssertEqual(saved.subnet, IPv4Network("10.2.0.0/24"))
  }
}

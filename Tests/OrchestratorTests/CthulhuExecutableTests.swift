import Foundation
import Manifest
import XCTest

@testable import Orchestrator

extension CthulhuExecutable {
  /// What the in-memory tests' control shims name: the in-memory engine
  /// starts no helper and nothing runs the shims.
  static let neverRun = CthulhuExecutable(path: "/nonexistent/bin/cthulhu")
}

/// The library is given the cthulhu binary it runs (``CthulhuExecutable``);
/// made without one, it refuses what needs it, before anything changes.
final class CthulhuExecutableTests: XCTestCase {
  var dir: String!

  override func setUpWithError() throws {
    dir = NSTemporaryDirectory() + "cthulhu-executable-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

  func manifest() -> Manifest {
    let g = Group(name: "node", source: .image("app:1"), count: 2, command: ["/bin/sh", "-c", "sleep 1000"])
    return Manifest(
      path: dir + "/cthulhu.yaml", fixture: "kv", root: dir + "/fixture",
      network: NetworkSettings(subnet: IPv4Network("172.28.6.0/24")), groups: [g])
  }

  func assertNoExecutable(_ error: any Error, naming need: String, file: StaticString = #filePath, line: UInt = #line) {
    guard let e = error as? OrchestratorError else { return XCTFail("\(error)", file: file, line: line) }
    XCTAssertEqual(e.code, .noExecutable, file: file, line: line)
    XCTAssertTrue(e.message.contains(need), e.message, file: file, line: line)
    XCTAssertTrue(e.message.contains("FixtureController(driver:executable:)"), e.message, file: file, line: line)
  }

  func testApplyWithoutAnExecutableIsRefusedBeforeAnythingChanges() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let o = FixtureController(driver: driver)
    let planned = try await o.plan(manifest())
    XCTAssertTrue(planned.plan.hasChanges)
    do {
      _ = try await o.apply(planned)
      XCTFail("applied without a cthulhu binary")
    } catch {
      assertNoExecutable(error, naming: "apply")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/fixture"), "the fixture folder was made")
    let containers = try await driver.containers(fixture: "kv")
    XCTAssertEqual(containers, [])
  }

  func testAFaultWithADurationWithoutAnExecutableIsRefusedBeforeAnythingChanges() async throws {
    let driver = MemoryDriver(images: ["app:1"])
    let m = manifest()
    let given = FixtureController(driver: driver, executable: .neverRun)
    let applied = try await given.apply(try await given.plan(m))
    XCTAssertTrue(applied.failures.isEmpty, "\(applied.failures)")
    let shim = try String(contentsOfFile: m.root + "/i001/control", encoding: .utf8)
    XCTAssertTrue(shim.contains("bin=${CTHULHU_BIN:-'/nonexistent/bin/cthulhu'}"), shim)
    let events = try String(contentsOfFile: m.root + "/events.jsonl", encoding: .utf8)
    let bare = FixtureController(driver: driver)
    do {
      _ = try await bare.inject(.isolate(["i001"]), root: m.root, lasting: .seconds(30))
      XCTFail("a fault with a duration was put in force without a cthulhu binary to lift it")
    } catch {
      assertNoExecutable(error, naming: "a fault with a duration")
    }
    XCTAssertEqual(try bare.faults(root: m.root), [])
    XCTAssertEqual(try String(contentsOfFile: m.root + "/events.jsonl", encoding: .utf8), events, "an event was logged")
  }

  func testLocateFindsTheFirstExecutableCthulhuOnThePath() throws {
    let empty = dir + "/empty"
    let plain = dir + "/plain"
    let bin = dir + "/bin"
    for d in [empty, plain, bin] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
    // Not executable: skipped, as a shell skips it.
    XCTAssertTrue(
      FileManager.default.createFile(atPath: plain + "/cthulhu", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o644]))
    XCTAssertTrue(
      FileManager.default.createFile(atPath: bin + "/cthulhu", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755]))
    XCTAssertEqual(try CthulhuExecutable.locate(searchPath: "\(empty):\(plain):\(bin)").path, bin + "/cthulhu")
    XCTAssertThrowsError(try CthulhuExecutable.locate(searchPath: "\(empty):\(plain)")) { error in
      XCTAssertEqual((error as? OrchestratorError)?.code, .noExecutable)
      XCTAssertTrue("\(error)".contains("\(empty):\(plain)"), "\(error)")
    }
    XCTAssertThrowsError(try CthulhuExecutable.locate(searchPath: nil)) { error in
      XCTAssertEqual((error as? OrchestratorError)?.code, .noExecutable)
    }
  }

  func testARelativePathIsMadeAbsolute() {
    let cwd = FileManager.default.currentDirectoryPath
    XCTAssertEqual(CthulhuExecutable(path: "bin/cthulhu").path, (cwd == "/" ? "" : cwd) + "/bin/cthulhu")
    XCTAssertEqual(CthulhuExecutable(path: "/usr/local/bin/cthulhu").path, "/usr/local/bin/cthulhu")
  }
}

import Foundation
import TestSupport
import XCTest

@testable import Orchestrator

/// The fault helper's root file system, made from this machine's programs:
/// the same files give the same bytes (so the same image tag), and it holds
/// what the programs need to run in a container with nothing else in it.
final class FaultHelperImageTests: XCTestCase {
  override func setUp() async throws {
    let missing = FaultHelperImage.tools.filter { HostCommand.locate($0) == nil }
    try Harness.require(missing.isEmpty, "this machine lacks \(missing.joined(separator: ", ")) (apt install iptables iproute2 busybox-static)")
  }

  /// Entry names and link targets of a ustar archive.
  func entries(_ tar: [UInt8]) -> [String: String] {
    var out: [String: String] = [:]
    var at = 0
    func field(_ from: Int, _ len: Int) -> String {
      String(decoding: tar[(at + from)..<(at + from + len)].prefix { $0 != 0 }, as: UTF8.self)
    }
    while at + 512 <= tar.count, tar[at] != 0 {
      let prefix = field(345, 155)
      let name = (prefix.isEmpty ? "" : prefix + "/") + field(0, 100)
      let size = Int(field(124, 12).trimmingCharacters(in: .whitespaces), radix: 8) ?? 0
      out[name] = field(157, 100)
      at += 512 + (size + 511) / 512 * 512
    }
    return out
  }

  func testSameHostFilesGiveTheSameImageAndItRunsOnItsOwn() async throws {
    let start = ContinuousClock.now
    let a = try await FaultHelperImage.make()
    let took = ContinuousClock.now - start
    let b = try await FaultHelperImage.make()
    XCTAssertEqual(a.hash, b.hash)
    XCTAssertEqual(a.archive, b.archive)
    XCTAssertTrue(a.tag.hasPrefix("cthulhu-nethelper:"), a.tag)
    XCTAssertEqual(a.tag.count, "cthulhu-nethelper:".count + 12)
    let names = entries(a.archive)
    // The tools the enforcer runs, by the names it runs them by.
    for tool in ["iptables", "iptables-restore", "iptables-save", "tc", "ip"] {
      XCTAssertTrue(
        names.keys.contains { $0 == "usr/sbin/\(tool)" || $0 == "usr/bin/\(tool)" || $0 == "sbin/\(tool)" || $0 == "bin/\(tool)" }, "no \(tool)")
    }
    XCTAssertNotNil(names["bin/sh"])
    // The program interpreter ldd lists (on its own, tab-indented line) is in.
    let ldd = try await HostCommand.run(["ldd", HostCommand.locate("tc")!])
    let interpreter = try XCTUnwrap(
      ldd.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.hasPrefix("/") }?.split(separator: " ").first)
    XCTAssertNotNil(names[String(interpreter.dropFirst())], "\(interpreter) is missing from the image")
    // The same iptables variant as the host path (nft or legacy): the rules must be the same ones.
    let host = URL(fileURLWithPath: HostCommand.locate("iptables")!).resolvingSymlinksInPath().path
    XCTAssertNotNil(names[String(host.dropFirst())], "\(host) is missing from the image")
    XCTAssertTrue(a.env.contains { $0.hasPrefix("XTABLES_LIBDIR=") }, "\(a.env)")
    print("fault helper image \(a.tag): \(a.archive.count) bytes, \(names.count) entries, made in \(took)")
  }
}

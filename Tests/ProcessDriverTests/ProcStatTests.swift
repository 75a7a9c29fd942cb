import Foundation
import XCTest

@testable import Orchestrator

/// `/proc/<pid>/stat` parsed from its bytes: what the driver reads at every
/// look, so it tells a live process from a reused PID.
final class ProcStatTests: XCTestCase {
  func testACommandWithSpacesAndParenthesesIsSkipped() throws {
    let line = "4242 (we ird) (x)) S 1 4243 4244 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615\n"
    let s = try XCTUnwrap(ProcStat.parse(line, pid: 4242))
    XCTAssertEqual(s, ProcStat(pid: 4242, state: "S", processGroup: 4243, session: 4244, startTime: 987654))
    XCTAssertNil(ProcStat.parse("4242 (cut short) S 1 2", pid: 4242))
    XCTAssertNil(ProcStat.parse("no parenthesis S 1 2 3", pid: 1))
  }

  /// Every process on this host, against the fields as `split` finds them.
  func testEveryLiveProcessReadsAsItsTextSays() throws {
    var compared = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
      guard let pid = Int32(name), let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
      else { continue }
      let f = text[text.index(after: close)...].split(separator: " ")
      guard f.count > 19, let got = ProcStat.read(pid) else { continue }  // (gone between the two reads)
      // A process's group and session can change between the reads (setsid), its start time cannot.
      XCTAssertEqual(got.startTime, UInt64(f[19]), "pid \(pid)")
      if got.processGroup == Int32(f[2]) { XCTAssertEqual(got.session, Int32(f[3]), "pid \(pid)") }
      compared += 1
    }
    XCTAssertGreaterThan(compared, 0)
  }
}

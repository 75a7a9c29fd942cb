import Foundation
import XCTest

@testable import Manifest

/// `targets: { command: [...] }` and `partition: cut`: what they read, and
/// every mistake reported at its node.
final class NemesisTargetCommandDecodingTests: XCTestCase {
  func testACommandAndACutDecode() throws {
    let dir = try TempDir()
    try dir.write("bin/primary.sh", "#!/bin/sh\necho i001\n")
    chmod(dir.path + "/bin/primary.sh", 0o755)
    let m = try load(
      NemesisDecodingTests.manifest(
        """
          faults:
            - partition: cut
              targets: { command: [./bin/primary.sh, --role, primary] }
              for: 5s
            - kill: { command: "echo i002" }
              for: 1s
            - partition: cut
              targets: random 1 of server
              for: 1s

        """), in: dir)
    let s = try XCTUnwrap(m.nemesis)
    XCTAssertEqual(s.faults[0].action, .partition(.cut))
    XCTAssertEqual(s.faults[0].action.fewestTargets, 1)
    XCTAssertEqual(s.faults[0].targets.command, [dir.path + "/bin/primary.sh", "--role", "primary"], "made absolute against the manifest's folder")
    XCTAssertEqual(s.faults[0].targets.directory, dir.path)
    XCTAssertEqual(s.faults[0].targets.words, [])
    XCTAssertEqual(s.faults[1].action, .kill(signal: "KILL"))
    XCTAssertEqual(s.faults[1].targets.command, ["/bin/sh", "-c", "echo i002"])
    XCTAssertEqual(s.faults[2].targets, NemesisTargets(words: ["server"], random: 1))
    // Through the record's JSON and back (the nemesis process reads it so).
    let again = try JSONDecoder().decode(NemesisSchedule.self, from: try JSONEncoder().encode(s))
    XCTAssertEqual(again, s)
  }

  func testEveryMistakeIsReportedAtItsNode() throws {
    let dir = try TempDir()
    try dir.write("bin/not-exec.sh", "#!/bin/sh\n")
    let p = problems(
      NemesisDecodingTests.manifest(
        """
          faults:
            - partition: cut
              for: 1s
            - partition: cut
              targets: all
              for: 1s
            - partition: cut
              targets: random 5
              for: 1s
            - loss: 10
              targets: { command: [./bin/nosuch] }
              for: 1s
            - kill: { command: [./bin/not-exec.sh] }
              for: 1s
            - pause: { comand: [x] }
              for: 1s
            - stop: {}
              for: 1s
            - isolate: { command: [] }
              for: 1s

        """), in: dir)
    XCTAssertEqual(
      p,
      [
        "7:18: a cut partition cuts its targets from every other instance: give 'targets' (random 1, i002, or { command: [./primary.sh] } for the current primary)",
        "10:16: a cut partition cuts its targets from the other instances, and nemesis fault 2 takes all 5; name fewer (random 1)",
        "13:16: a cut partition cuts its targets from the other instances, and nemesis fault 3 takes all 5; name fewer (random 1)",
        "16:27: the targets command of nemesis fault 4: \(dir.path)/bin/nosuch does not exist",
        "18:24: the targets command of nemesis fault 5: \(dir.path)/bin/not-exec.sh is not executable (chmod +x)",
        "20:16: unknown key 'comand' in the targets of nemesis fault 6; did you mean 'command'?",
        "22:13: the targets of nemesis fault 7 need 'command': a program that prints instance names, one a line",
        "24:27: 'targets.command' of nemesis fault 8 must not be empty",
      ])
  }
}

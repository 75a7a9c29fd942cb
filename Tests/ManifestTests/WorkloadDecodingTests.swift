import Foundation
import XCTest

@testable import Manifest

/// `workloads:`: what it reads, its defaults, and each mistake at its node.
final class WorkloadDecodingTests: XCTestCase {
  static func manifest(_ workloads: String) -> String {
    "fixture: t\ngroups:\n  server: {image: x, count: 3}\nworkloads:\n" + workloads
  }

  func testAWorkloadDecodesAsTheIssueWritesIt() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
          lost-writes:
            client: { command: ["./clients/redis-set", "--spec", "x"] }
            generator: set
            keys: 1
            concurrency: 10
            rate: 500/s
            time_limit: 30s
            final_wait: 10s
            checker: set-full
            timeout: 2s
          regs:
            command: curl -fsS http://x
            fail_codes: [1, 22]
            generator: cas-register
            mix: { read: 2, cas: 1, write: 0 }
        """), in: dir)
    XCTAssertEqual(m.workloads.map(\.name), ["lost-writes", "regs"])
    let w = m.workloads[0]
    XCTAssertEqual(w.client, .process(command: ["./clients/redis-set", "--spec", "x"]))
    XCTAssertEqual(w.generator, .set)
    XCTAssertEqual(w.concurrency, 10)
    XCTAssertEqual(w.rate, 500)
    XCTAssertEqual(w.timeLimit, .seconds(30))
    XCTAssertEqual(w.finalWait, .seconds(10))
    XCTAssertEqual(w.checker, "set-full")
    XCTAssertEqual(w.timeout, .seconds(2))
    XCTAssertEqual(w.location.line, 5)
    let r = m.workloads[1]
    XCTAssertEqual(r.client, .perOperation(command: ["/bin/sh", "-c", "curl -fsS http://x"], failCodes: [1, 22]))
    XCTAssertEqual(r.checker, "cas-register", "the generator's model by default")
    XCTAssertEqual(r.mix, ["read": 2, "cas": 1, "write": 0])
    XCTAssertEqual(r.concurrency, 5)
    XCTAssertNil(r.rate)
  }

  func testRatesInEveryUnit() {
    XCTAssertEqual(Workload.rate("500/s"), 500)
    XCTAssertEqual(Workload.rate("30/m"), 0.5)
    XCTAssertEqual(Workload.rate("7200/h"), 2)
    XCTAssertEqual(Workload.rate("20"), 20)
    for bad in ["", "/s", "0/s", "-1/s", "5/d", "fast"] { XCTAssertNil(Workload.rate(bad), bad) }
  }

  func testMistakesAreReportedAtTheirNode() throws {
    let dir = try TempDir()
    let p = problems(
      Self.manifest(
        """
          a:
            client: { command: [./c] }
            generator: sets
            rate: fast
          b:
            generator: register
          c:
            client: { command: [./c] }
            command: [./d]
            generator: register
            keys: 4
          d:
            client: { command: [./c] }
            generator: kv
            mix: { read: 1 }
            concurency: 3
        """), in: dir)
    XCTAssertEqual(
      p,
      [
        "7:16: unknown generator 'sets'; use register, cas-register, kv, set, list-append, bank, counter (did you mean 'set'?)",
        "8:11: 'a.rate' must be operations per unit of time such as 500/s, 30/m or 2/h, not 'fast'",
        "10:5: workload 'b' needs 'client: { command: [...] }' (one process per worker) or 'command: [...]' (one per operation)",
        "13:5: workload 'c' has both 'client' and 'command'; give one: a process per worker, or one per operation",
        "15:11: 'keys' is for the kv, list-append and bank generators; register has one object",
        "19:12: the kv generator makes no 'read'; it makes get, put",
        "20:5: unknown key 'concurency' in workload 'd'; did you mean 'concurrency'?",
      ])
  }

  func testABankWorkloadStatesItsTotalAndNoOtherMay() throws {
    let dir = try TempDir()
    let m = try load(
      Self.manifest(
        """
          money:
            client: { command: [./c] }
            generator: bank
            total: 100
        """), in: dir)
    XCTAssertEqual(m.workloads.first?.total, 100)
    XCTAssertEqual(
      problems(
        Self.manifest(
          """
            r:
              client: { command: [./c] }
              generator: register
              total: 5
          """), in: dir),
      ["8:12: 'total' is for the bank generator; register has no balances"])
  }
}

import XCTest

@testable import Orchestrator

/// The executor's ready queue: plan order among ready steps, a step once
/// its dependencies in the plan succeeded, never after one failed.
final class StepQueueTests: XCTestCase {
  func t(_ text: String) -> Step.Target { Step.Target(text)! }

  func step(_ target: String, after deps: [String] = []) -> Step {
    Step(target: t(target), action: .create, reasons: [], dependsOn: deps.map(t))
  }

  func drain(_ q: inout StepQueue) -> [String] {
    var out: [String] = []
    while let s = q.next() { out.append(s.target.description) }
    return out
  }

  func testReadyStepsComeInPlanOrderOnceTheirDependenciesSucceeded() {
    var q = StepQueue([
      step("network:n"), step("instance:i001", after: ["network:n"]), step("image:g"),
      step("instance:i002", after: ["network:n", "image:g", "network:n"]), step("instance:i003", after: ["instance:gone"]),
    ])
    XCTAssertEqual(drain(&q), ["network:n", "image:g", "instance:i003"], "a dependency outside the plan is no dependency")
    q.succeeded(t("image:g"))
    XCTAssertEqual(drain(&q), [], "i002 still waits for the network")
    q.succeeded(t("network:n"))
    XCTAssertEqual(drain(&q), ["instance:i001", "instance:i002"])
    q.succeeded(t("network:n"))  // (said twice: counted once)
    XCTAssertEqual(drain(&q), [])
    XCTAssertEqual(q.notStarted, [])
  }

  func testStepsAfterAFailureAreNeverReadyAndAreReportedInPlanOrder() {
    var q = StepQueue([
      step("instance:i001"), step("instance:i002", after: ["instance:i001"]), step("instance:i003"),
      step("instance:i004", after: ["instance:i002"]), step("instance:i005", after: ["instance:i005"]),
    ])
    XCTAssertEqual(q.next()?.target, .instance("i001"))
    // i001 failed: nothing is counted down.
    XCTAssertEqual(drain(&q), ["instance:i003"])
    XCTAssertEqual(q.notStarted.map(\.target.description), ["instance:i002", "instance:i004", "instance:i005"])
  }

  func testALargePlanComesOutWhole() {
    let n = 5000
    var steps = [step("network:n")]
    steps += (1...n).map { step("instance:" + InstanceName.make($0), after: ["network:n"]) }
    var q = StepQueue(steps)
    XCTAssertEqual(drain(&q), ["network:n"])
    q.succeeded(t("network:n"))
    XCTAssertEqual(drain(&q), (1...n).map { "instance:" + InstanceName.make($0) })
  }
}

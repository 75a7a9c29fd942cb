import Foundation
import Manifest
import Orchestrator
import TestSupport
import XCTest

/// `clock skew` on containers: libfaketime and the instance's clock folder
/// are bound into the container read-only, and a dynamically linked program
/// there (GNU date, with the glibc loader and libraries of this machine, as
/// scripts/demo-image.sh builds the demo's image) sees the skew; a static
/// program (busybox-static) is refused with one sentence.
final class DockerClockSkewTests: XCTestCase {
  var e: EngineFixture!
  var root: String { e.root }
  var image: String!

  override func setUp() async throws {
    try Harness.require(ClockSkew.library() != nil, "libfaketime is not installed (apt-get install libfaketime)")
    try Harness.require(FileManager.default.fileExists(atPath: "/bin/busybox"), "busybox-static is not installed")
    e = try await EngineFixture.make(tag: "clock", prefix: "ck")
    image = "cthulhu-clocktest-\(e.fixture):latest"
    // GNU date and sleep with the libraries ldd lists for them and for libfaketime (libm: an image
    // without it cannot start a program with libfaketime preloaded), the loader, and a static busybox.
    let build = try Harness.run(
      "/bin/sh",
      [
        "-c",
        """
        set -e
        r=$(mktemp -d)
        trap 'rm -rf "$r"' EXIT
        mkdir -p "$r/bin" "$r/usr/bin" "$r/tmp"
        cp /usr/bin/date /usr/bin/sleep "$r/usr/bin/"
        cp /bin/busybox "$r/bin/busybox"
        for l in $(for b in /usr/bin/date /usr/bin/sleep "\(ClockSkew.library()!)"; do ldd "$b"; done | grep -o '/[^ ]*' | sort -u); do cp -L --parents "$l" "$r"; done
        tar -C "$r" -c . | docker import - "\(image!)" >/dev/null
        """,
      ])
    try Harness.require(build.status == 0, "cannot build the test image: \(build.stderr)")
    try """
    fixture: \(e.fixture)
    groups:
      clocked:
        image: \(image!)
        clock_skew: true
        command: ["/usr/bin/sleep", "infinity"]
        stop_timeout: 1s
      static:
        image: \(image!)
        clock_skew: true
        command: ["/bin/busybox", "sleep", "1000"]
        stop_timeout: 1s

    """.write(toFile: e.dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)
    let r = try cthulhu("apply")
    XCTAssertEqual(r.status, 0, r.stderr)
  }

  override func tearDown() async throws {
    guard let e else { return }
    try await e.tearDown()
    if let image { _ = try? Harness.run("/bin/sh", ["-c", "docker image rm -f \(image) >/dev/null"]) }
  }

  @discardableResult
  func cthulhu(_ args: String...) throws -> Run { try e.cthulhu(args) }

  /// How far the instance's wall clock (GNU date inside it) is from this machine's, in seconds: the range it is in.
  func skew(_ name: String) throws -> ClosedRange<Double> {
    try Harness.clockOffset(name) { try cthulhu("exec", name, "--", "/usr/bin/date", "+%s.%N") }
  }

  func assertSkew(_ name: String, _ seconds: Double, _ why: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
    let r = try skew(name)
    XCTAssertTrue(r.contains(seconds), "\(name)'s clock is \(r) s off, not \(seconds) s. \(why)", file: file, line: line)
  }

  func testSkewReachesADynamicProgramInTheContainerAndAStaticOneIsRefused() async throws {
    try assertSkew("i001", 0)
    let made = try cthulhu("clock", "skew", "+1h", "i001")
    XCTAssertEqual(made.status, 0, made.stderr)
    try assertSkew("i001", 3600)
    let back = try cthulhu("clock", "skew", "-250ms", "i001")
    XCTAssertEqual(back.status, 0, back.stderr)
    try assertSkew("i001", -0.25)
    let reset = try cthulhu("clock", "reset", "i001")
    XCTAssertEqual(reset.status, 0, reset.stderr)
    try assertSkew("i001", 0)

    // libfaketime used the pair cthulhu bound in, and so made none (nor called setenv, which moves
    // environ and costs a static-stdlib Swift program its arguments).
    let shm = try cthulhu("exec", "i001", "--", "/bin/busybox", "ls", "/dev/shm")
    XCTAssertEqual(shm.status, 0, shm.stderr)
    XCTAssertEqual(shm.stdout.split(separator: "\n").sorted(), ["cthulhu-faketime", "sem.cthulhu-faketime"], shm.stdout)

    let refused = try cthulhu("clock", "skew", "+5s", "i002")
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("i002: its program"), refused.stderr)
    XCTAssertTrue(refused.stderr.contains("statically linked"), refused.stderr)
    XCTAssertTrue(try FaultBook.load(root: root).faults.isEmpty)
  }
}

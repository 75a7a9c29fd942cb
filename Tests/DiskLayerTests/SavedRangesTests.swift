import DiskLayer
import Orchestrator
import XCTest

/// The saved durable bytes of one file: gaps and merging.
final class SavedRangesTests: XCTestCase {
  func testGapsAndMerges() {
    var saved = SavedRanges()
    XCTAssertEqual(saved.gaps(0, 10), [0..<10])
    saved.insert(start: 2, bytes: [1, 2, 3])
    XCTAssertEqual(saved.gaps(0, 10), [0..<2, 5..<10])
    XCTAssertEqual(saved.gaps(3, 4), [])
    saved.insert(start: 8, bytes: [9])
    XCTAssertEqual(saved.gaps(0, 10), [0..<2, 5..<8, 9..<10])
    saved.insert(start: 5, bytes: [4, 5, 6])
    // 2..<5 and 5..<8 and 8..<9 are one piece now.
    XCTAssertEqual(saved.pieces, [.init(start: 2, bytes: [1, 2, 3, 4, 5, 6, 9])])
    XCTAssertEqual(saved.gaps(0, 12), [0..<2, 9..<12])
    XCTAssertEqual(saved.byteCount, 7)
    saved.insert(start: 0, bytes: [7, 7])
    XCTAssertEqual(saved.pieces.count, 1)
    XCTAssertEqual(saved.pieces[0].start, 0)
    XCTAssertEqual(saved.gaps(5, 5), [])
  }
}

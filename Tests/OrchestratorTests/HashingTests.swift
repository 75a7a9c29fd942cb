import Foundation
import XCTest

@testable import Orchestrator

/// Spec and file hashes are stored in labels and state files: their text must not change.
final class HashingTests: XCTestCase {
  func testKnownDigestsAsLowerCaseHex() {
    XCTAssertEqual(Hashing.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(Hashing.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  func testHexOfEveryByte() {
    let all = (0...255).map { UInt8($0) }
    XCTAssertEqual(Hashing.hex(all), all.map { String(format: "%02x", $0) }.joined())
  }
}

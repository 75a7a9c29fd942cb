import XCTest

@testable import cthulhu_demo

import Foundation
import Orchestrator
import XCTest

/// What a program run by the tests printed, and how it ended.
public struct Run: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// Shared by the test targets: the built `cthulhu` binary, programs run with
/// their output in files, the Docker engine the tests need, and the rule
/// that a test which cannot run skips with its reason, or fails under CI=true.
public enum Harness {
  /// The folder that holds the built products (`cthulhu` among them).
  public static var products: URL {
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
      return bundle.bundleURL.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL
  }

  public static var binary: String { products.appendingPathComponent("cthulhu").path }

  @discardableResult
  public static func cthulhu(_ args: [String], in dir: String? = nil, env: [String: String] = [:]) throws -> Run {
    try run(binary, args, in: dir, env: env)
  }

  @discardableResult
  public static func run(_ exe: String, _ args: [String], in dir: String? = nil, env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
    p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
    // Output goes to files, so a chatty child never blocks on a full pipe.
    let base = NSTemporaryDirectory() + "cthulhu-run-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: base + ".out", contents: nil)
    _ = FileManager.default.createFile(atPath: base + ".err", contents: nil)
    defer {
      try? FileManager.default.removeItem(atPath: base + ".out")
      try? FileManager.default.removeItem(atPath: base + ".err")
    }
    p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".out"))
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: base + ".err"))
    try p.run()
    p.waitUntilExit()
    let o = FileManager.default.contents(atPath: base + ".out") ?? Data()
    let e = FileManager.default.contents(atPath: base + ".err") ?? Data()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }

  public static var underCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

  /// Skips outside CI when `condition` fails; under `CI=true` fails instead.
  public static func require(_ condition: Bool, _ why: String) throws {
    guard !condition else { return }
    if underCI { XCTFail("CI=true and \(why)"); throw XCTSkip("failed above: \(why)") }
    throw XCTSkip(why)
  }

  /// A driver for the local engine, with the test image present; skips outside
  /// CI and fails under CI=true when either is missing.
  public static func engine() async throws -> DockerDriver {
    let d: DockerDriver
    do { d = try DockerDriver() } catch {
      try require(false, "no Docker engine: \(error)")
      throw XCTSkip("no Docker engine")
    }
    do { _ = try await d.networks() } catch {
      try await d.shutdown()
      try require(false, "the Docker engine does not answer: \(error)")
    }
    let image = try await d.imageID("cthulhu-test:latest")
    if image == nil { try await d.shutdown() }
    try require(image != nil, "image cthulhu-test:latest is missing (run scripts/test-image.sh)")
    return d
  }

  public static func uniqueName(_ prefix: String) -> String { prefix + "-" + String(UUID().uuidString.prefix(6)).lowercased() }

  public static func tempDir(_ tag: String) throws -> String {
    let d = NSTemporaryDirectory() + "cthulhu-\(tag)-\(UUID().uuidString.prefix(8).lowercased())"
    try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
  }
}

extension Harness {
  /// How far a clock read by `read` (which prints seconds since 1970, as
  /// `date +%s.%N` does) is from this machine's, as the range it must be
  /// in: the reading was taken between the moment before `read` and the
  /// moment after, however long a loaded machine took. Half a second either
  /// side covers the printing's own resolution.
  public static func clockOffset(_ what: String, _ read: () throws -> Run) throws -> ClosedRange<Double> {
    let before = Date().timeIntervalSince1970
    let r = try read()
    let after = Date().timeIntervalSince1970
    guard let theirs = Double(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
      throw CocoaError(.coderReadCorrupt, userInfo: [NSDebugDescriptionErrorKey: "the clock of \(what) read as: \(r.stdout)\(r.stderr)"])
    }
    return (theirs - after - 0.5)...(theirs - before + 0.5)
  }
}

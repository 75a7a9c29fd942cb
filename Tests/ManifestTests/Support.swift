import Foundation
import XCTest

@testable import Manifest

/// A temporary folder holding a manifest and the files it refers to.
final class TempDir {
  let path: String

  init() throws {
    path = NSTemporaryDirectory() + "cthulhu-manifest-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try write("templates/config.json", "{ \"self\": \"{{ instance.ip }}\" }\n")
    try write("templates/a.conf", "a={{ instance.name }}\n")
    try write("files/run.sh", "#!/bin/sh\n")
    try write("ctx/Dockerfile", "FROM busybox\n")
    try write("ctx/Other.dockerfile", "FROM busybox\n")
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func write(_ relative: String, _ text: String) throws {
    let full = path + "/" + relative
    try FileManager.default.createDirectory(
      atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: full, atomically: true, encoding: .utf8)
  }

  /// Where the manifest under test claims to live.
  var manifestPath: String { path + "/cthulhu.yaml" }
}

/// Loads `yaml` as a manifest in `dir`, failing the test on diagnostics.
func load(_ yaml: String, in dir: TempDir, file: StaticString = #filePath, line: UInt = #line) throws -> Manifest {
  do {
    return try ManifestLoader.load(text: yaml, path: dir.manifestPath)
  } catch {
    XCTFail(error.render(), file: file, line: line)
    throw error
  }
}

/// Diagnostics of an invalid manifest as `line:column: message`; empty when it loads.
func problems(_ yaml: String, in dir: TempDir) -> [String] {
  problems(bytes: Array(yaml.utf8), in: dir)
}

func problems(bytes: [UInt8], in dir: TempDir) -> [String] {
  do {
    _ = try ManifestLoader.decode(bytes: bytes, displayPath: "m.yaml", absolutePath: dir.manifestPath)
    return []
  } catch {
    return error.diagnostics.map { "\($0.location.line):\($0.location.column): \($0.message)" }
  }
}

/// Folder of the package (for `manifests/`).
let packageRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

import DiskLayer
import Foundation
import Orchestrator
import XCTest

/// What a POSIX file system must keep at a crash, kept beside the real
/// calls the trials make through the layer: each file's content and the
/// content at its last fsync, each folder's entries and the entries at its
/// last fsync. Files and folders are objects (a rename moves the object).
final class ModelFile {
  var content: [UInt8] = []
  var durable: [UInt8] = []
  /// The last write since the last fsync (offset, length).
  var lastWrite: (offset: Int, length: Int)?
}

final class ModelFolder {
  var entries: [String: ModelNode] = [:]
  var durable: [String: ModelNode] = [:]
}

enum ModelNode {
  case file(ModelFile)
  case folder(ModelFolder)
}

/// Calls on the mount that fail the test when they fail.
enum Through {
  static func check(_ rc: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) throws {
    if rc < 0 {
      throw Failure(message: "\(what): \(String(cString: strerror(errno)))")
    }
  }

  struct Failure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  static func open(_ path: String, _ flags: Int32) throws -> Int32 {
    let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
    try check(Int(fd), "open \(path)")
    return fd
  }

  static func write(_ path: String, at offset: Int, _ bytes: [UInt8], create: Bool = false) throws {
    let fd = try open(path, O_WRONLY | (create ? O_CREAT | O_EXCL : 0))
    defer { close(fd) }
    let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    try check(n, "write \(path)")
    if n != bytes.count { throw Failure(message: "short write to \(path): \(n) of \(bytes.count)") }
  }

  static func truncate(_ path: String, _ size: Int) throws { try check(Int(Glibc.truncate(path, off_t(size))), "truncate \(path)") }

  static func fsync(_ path: String, folder: Bool = false) throws {
    let fd = try open(path, folder ? O_RDONLY | O_DIRECTORY : O_WRONLY)
    defer { close(fd) }
    try check(Int(Glibc.fsync(fd)), "fsync \(path)")
  }

  static func rename(_ from: String, _ to: String) throws { try check(Int(Glibc.rename(from, to)), "rename \(from) \(to)") }
  static func unlink(_ path: String) throws { try check(Int(Glibc.unlink(path)), "unlink \(path)") }
  static func mkdir(_ path: String) throws { try check(Int(Glibc.mkdir(path, 0o755)), "mkdir \(path)") }
  static func rmdir(_ path: String) throws { try check(Int(Glibc.rmdir(path)), "rmdir \(path)") }

  static func read(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure(message: "cannot read \(path)") }
    return [UInt8](data)
  }
}

extension ModelFile {
  /// Writes `bytes` at `offset` into `content` (zeros fill a gap).
  static func patch(_ content: inout [UInt8], _ offset: Int, _ bytes: ArraySlice<UInt8>) {
    if content.count < offset + bytes.count { content += [UInt8](repeating: 0, count: offset + bytes.count - content.count) }
    content.replaceSubrange(offset..<offset + bytes.count, with: bytes)
  }

  func write(_ offset: Int, _ bytes: [UInt8]) {
    Self.patch(&content, offset, bytes[...])
    lastWrite = (offset, bytes.count)
  }

  func truncate(_ size: Int) {
    if size < content.count { content.removeLast(content.count - size) } else { content += [UInt8](repeating: 0, count: size - content.count) }
  }

  func fsync() {
    durable = content
    lastWrite = nil
  }
}

extension ModelFolder {
  /// Every file the durable tree reaches from this folder (at `path`), by path.
  func durableFiles(at path: String) -> [(path: String, file: ModelFile)] {
    durable.sorted { $0.key < $1.key }.flatMap { name, node -> [(path: String, file: ModelFile)] in
      switch node {
      case .file(let file): [(path + "/" + name, file)]
      case .folder(let folder): folder.durableFiles(at: path + "/" + name)
      }
    }
  }

  /// What must be at `path` after lose-unsynced: the durable entries, each
  /// file with its durable content (and the kept part of its last write
  /// for a `--torn` cut in `cuts`), compared with the real tree under
  /// `root`. Returns the mismatches, as sentences.
  func mismatches(at path: String, root: String, cuts: [ObjectIdentifier: LossReport.Torn]) -> [String] {
    var problems: [String] = []
    let real = Set((try? FileManager.default.contentsOfDirectory(atPath: root + path)) ?? [])
    if real != Set(durable.keys) {
      problems.append("\(path): names \(real.sorted()), expected \(durable.keys.sorted())")
    }
    for (name, node) in durable where real.contains(name) {
      let child = path + "/" + name
      switch node {
      case .folder(let folder): problems += folder.mismatches(at: child, root: root, cuts: cuts)
      case .file(let file):
        var expected = file.durable
        if let cut = cuts[ObjectIdentifier(file)] {
          if cut.offset != Int64(file.lastWrite?.offset ?? -1) || cut.length != file.lastWrite?.length || cut.kept >= cut.length
            || (cut.kept > 0 && Int(cut.offset) + cut.kept > file.content.count)
          {
            problems.append("\(child): torn \(cut) is not a part of its last write \(String(describing: file.lastWrite))")
          } else if cut.kept > 0 {
            let offset = Int(cut.offset)
            ModelFile.patch(&expected, offset, file.content[offset..<offset + cut.kept])
          }
        }
        guard let actual = try? Through.read(root + child) else {
          problems.append("\(child): unreadable")
          continue
        }
        if actual != expected {
          let first = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
          problems.append("\(child): \(actual.count) bytes, expected \(expected.count) (first difference at \(first))")
        }
      }
    }
    return problems
  }
}

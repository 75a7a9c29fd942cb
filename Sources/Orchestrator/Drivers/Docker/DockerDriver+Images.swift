import AsyncHTTPClient
import Foundation
import Manifest
import NIOCore
import NIOHTTP1

extension DockerDriver {
  public func imageID(_ reference: String) async throws -> String? {
    do {
      return try await api().json(API.ImageInspect.self, "GET", "/images/\(Self.escape(reference))/json").Id
    } catch let e as DriverError where e.code == .notFound {
      return nil
    }
  }

  static func escape(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? s
  }

  public func pull(_ reference: String) async throws -> String {
    var image = reference
    var tag = "latest"
    if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
      image = String(reference[..<colon])
      tag = String(reference[reference.index(after: colon)...])
    }
    let c = try await api()
    let resp = try await c.send("POST", "/images/create", query: ["fromImage": image, "tag": tag], timeout: .seconds(300))
    let fail = { (why: String) in
      DriverError(.imageUnavailable, "image '\(reference)' is not on this machine and could not be pulled: \(why); build it locally or use build:")
    }
    guard (200..<300).contains(Int(resp.status.code)) else {
      let data = try await c.collect(resp)
      throw fail(DockerClient.engineMessage(data))
    }
    try await Self.follow(c, resp) { p in if let e = p.error { throw fail(e) } }
    guard let id = try await imageID(reference) else { throw fail("the engine reported no image after the pull") }
    return id
  }

  /// Reads a JSON-lines progress stream (pull, build), handing each line to `each`.
  static func follow(_ c: DockerClient, _ resp: HTTPClientResponse, _ each: (API.Progress) throws -> Void) async throws {
    var lines = ProgressLines()
    for try await chunk in c.body(resp) {
      for p in lines.feed(Array(chunk.readableBytesView)) { try each(p) }
    }
    for p in lines.finish() { try each(p) }
  }

  public func build(context: String, dockerfile: String, tag: String, labels: [String: String]) async throws -> String {
    let tar = try Tar.archive(folder: context)
    let labelJSON = String(decoding: try JSONSerialization.data(withJSONObject: labels), as: UTF8.self)
    let c = try await api()
    let resp = try await c.send(
      "POST", "/build", query: ["t": tag, "dockerfile": dockerfile, "labels": labelJSON, "rm": "1", "forcerm": "1"],
      body: Data(tar), contentType: "application/x-tar", timeout: .seconds(900))
    guard (200..<300).contains(Int(resp.status.code)) else {
      let data = try await c.collect(resp)
      throw DriverError(.buildFailed, "build of \(tag) from \(context) failed: \(DockerClient.engineMessage(data))")
    }
    var id: String?
    var tail: [String] = []
    try await Self.follow(c, resp) { p in
      if let e = p.error {
        throw DriverError(
          .buildFailed, "build of \(tag) from \(context) failed: \(e.trimmingCharacters(in: .whitespacesAndNewlines))\n\(tail.suffix(5).joined())")
      }
      if let s = p.stream { tail.append(s) }
      if let i = p.aux?.ID { id = i }
    }
    if let id { return id }
    guard let found = try await imageID(tag) else { throw DriverError(.buildFailed, "build of \(tag) produced no image") }
    return found
  }

  /// Removes an image (a helper for tests and cleanup; not part of ``Driver``).
  public func removeImage(_ reference: String, force: Bool = false) async throws {
    try await api().call(
      "DELETE", "/images/\(Self.escape(reference))", query: ["force": force ? "1" : "0"], what: "remove image \(reference)")
  }

  public func removeBuiltImages(fixture: String) async throws -> [String] {
    let filter = String(decoding: try JSONEncoder().encode(["label": ["\(Labels.fixture)=\(fixture)"]]), as: UTF8.self)
    let images = try await api().json([API.ImageSummary].self, "GET", "/images/json", query: ["filters": filter])
    var removed: [String] = []
    for image in images {
      try await removeImage(image.Id)
      removed.append(image.RepoTags?.first { $0 != "<none>:<none>" } ?? image.Id)
    }
    return removed.sorted()
  }
}

/// Splits a JSON-lines progress stream (pull, build) into its messages,
/// whatever the chunking; lines that are not JSON are skipped.
struct ProgressLines {
  private var pending: [UInt8] = []

  mutating func feed(_ bytes: [UInt8]) -> [API.Progress] {
    pending += bytes
    var out: [API.Progress] = []
    while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
      if let p = Self.decode(pending[..<nl]) { out.append(p) }
      pending.removeSubrange(...nl)
    }
    return out
  }

  mutating func finish() -> [API.Progress] {
    defer { pending = [] }
    return Self.decode(pending[...]).map { [$0] } ?? []
  }

  static func decode(_ line: ArraySlice<UInt8>) -> API.Progress? {
    guard line.contains(where: { $0 > 32 }) else { return nil }
    return try? JSONDecoder().decode(API.Progress.self, from: Data(line))
  }
}

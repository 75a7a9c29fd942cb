import DiskLayer
import Foundation
import Orchestrator
import TestSupport
import XCTest

/// Measured exactness of `lose-unsynced`: seeded trials of random writes,
/// truncations, fsyncs, creations, renames, unlinks, folder creations and
/// removals and folder fsyncs through one mount of the layer, each ended by
/// lose-unsynced (every fourth with `--torn`) and checked against
/// ``ModelFolder``: every name and byte made durable is there, and nothing
/// else. `CTHULHU_DISK_TRIALS` sets the count (1,000 by default).
final class DurabilityTrialsTests: XCTestCase {
  var layer: LayerMount!

  override func setUp() async throws { layer = try LayerMount(tag: "disk-trials") }

  override func tearDown() async throws {
    if let layer { XCTAssertTrue(layer.stop(), "the layer did not stop by itself on SIGTERM, or left its mount") }
  }

  func testLoseUnsyncedKeepsExactlyWhatWasMadeDurable() throws {
    let trials = Int(ProcessInfo.processInfo.environment["CTHULHU_DISK_TRIALS"] ?? "") ?? 1000
    var tornCuts = 0
    var last = 0
    for trial in 0..<trials {
      last = trial
      var trialRun = Trial(mount: layer.mount, name: "t\(trial)", seed: UInt64(trial))
      if trial > 0 {
        try FileManager.default.removeItem(atPath: layer.mount + "/t\(trial - 1)")
      }
      try trialRun.prepare()
      try trialRun.run()
      let torn = trial % 4 == 3
      let report = try layer.loseUnsynced(torn: torn, seed: UInt64(trial))
      var cuts: [ObjectIdentifier: LossReport.Torn] = [:]
      let files = trialRun.top.durableFiles(at: "/" + trialRun.name)
      for cut in report.torn {
        guard let file = files.first(where: { $0.path == cut.path })?.file else {
          XCTFail("trial \(trial): a torn cut of \(cut.path), which has no durable name")
          continue
        }
        cuts[ObjectIdentifier(file)] = cut
      }
      if torn {
        for (path, file) in files where (file.lastWrite?.length ?? 0) > 1 && cuts[ObjectIdentifier(file)] == nil {
          XCTFail("trial \(trial): \(path) had an unsynced write and no torn cut")
        }
      } else {
        XCTAssertEqual(report.torn, [], "trial \(trial)")
      }
      tornCuts += report.torn.count
      let problems = trialRun.top.mismatches(at: "/" + trialRun.name, root: layer.mount, cuts: cuts)
      XCTAssertEqual(problems, [], "trial \(trial) (seed \(trial)): \(trialRun.log.joined(separator: "; "))")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layer.state + "/staging"), [], "trial \(trial)")
      if !problems.isEmpty { break }
    }
    // The last trial's folder goes too: then nothing durable is left unnamed.
    try FileManager.default.removeItem(atPath: layer.mount + "/t\(last)")
    try Through.fsync(layer.mount, folder: true)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: layer.state + "/graveyard"), [])
    XCTAssertEqual(try layer.status(), DiskLayerStatus(unsyncedFiles: 0, savedBytes: 0, changedDirectories: 0))
    if trials >= 8 { XCTAssertGreaterThan(tornCuts, 0, "no trial tore a write") }
  }
}

/// One trial: a folder `name` under the mount, made durable with two files
/// and a subfolder, then random operations drawn from `seed`.
struct Trial {
  let mount: String
  let name: String
  var random: SeededGenerator
  let top = ModelFolder()
  var log: [String] = []

  init(mount: String, name: String, seed: UInt64) {
    self.mount = mount
    self.name = name
    self.random = SeededGenerator(seed: seed)
  }

  var base: String { mount + "/" + name }

  mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

  mutating func prepare() throws {
    try Through.mkdir(base)
    for file in ["a", "b"] {
      let model = ModelFile()
      model.write(0, bytes(Int.random(in: 0...400, using: &random)))
      try Through.write(base + "/" + file, at: 0, model.content, create: true)
      try Through.fsync(base + "/" + file)
      model.fsync()
      top.entries[file] = .file(model)
    }
    try Through.mkdir(base + "/d0")
    try Through.fsync(base + "/d0", folder: true)
    top.entries["d0"] = .folder(ModelFolder())
    try Through.fsync(base, folder: true)
    try Through.fsync(mount, folder: true)
    top.durable = top.entries
  }

  /// The folders of the trial: the top one and its subfolders, with their paths.
  var folders: [(path: String, folder: ModelFolder)] {
    [(base, top)]
      + top.entries.sorted { $0.key < $1.key }.compactMap { name, node in
        if case .folder(let folder) = node { return (base + "/" + name, folder) }
        return nil
      }
  }

  var files: [(path: String, file: ModelFile, folder: ModelFolder, name: String)] {
    folders.flatMap { path, folder in
      folder.entries.sorted { $0.key < $1.key }.compactMap { name, node in
        if case .file(let file) = node { return (path + "/" + name, file, folder, name) }
        return nil
      }
    }
  }

  mutating func run() throws {
    for _ in 0..<Int.random(in: 4...24, using: &random) {
      try step(Int.random(in: 0..<12, using: &random))
    }
  }
}

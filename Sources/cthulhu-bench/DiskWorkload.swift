// `cthulhu-bench disk --layer DIR --plain DIR --rounds R`: the disk layer's
// overhead (docs/benchmarks.md, "Disk layer"). The same three workloads in
// a folder under the layer's mount and in a plain folder on the backing
// folder's file system, plain first then layer in every round (round 0 is a
// warm-up). Prints `SCENARIO TARGET ROUND SECONDS` lines.
import Foundation
import Manifest

enum DiskWorkload {
  static let scenarios: [(name: String, run: @Sendable (String) -> Void)] = [
    ("seq-write-32MiB-64KiB", { sequential($0, total: 32 << 20, chunk: 64 << 10, fsyncEach: false) }),
    ("seq-write-fsync-4MiB-4KiB", { sequential($0, total: 4 << 20, chunk: 4 << 10, fsyncEach: true) }),
    ("small-files-1000x4KiB", { smallFiles($0, count: 1000, size: 4 << 10) }),
  ]

  static func fail(_ what: String) -> Never {
    FileHandle.standardError.write(Data("cthulhu-bench disk: \(what): \(String(cString: strerror(errno)))\n".utf8))
    exit(1)
  }

  static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ path: String) {
    let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    if n != buffer.count { fail("write \(path)") }
  }

  /// One file of `total` bytes written `chunk` at a time (fsync after each
  /// chunk, or one fsync at the end), then removed.
  static func sequential(_ dir: String, total: Int, chunk: Int, fsyncEach: Bool) {
    let path = dir + "/seq"
    let buffer = [UInt8](repeating: 0x5A, count: chunk)
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { fail("open \(path)") }
    for _ in 0..<(total / chunk) {
      writeAll(fd, buffer, path)
      if fsyncEach, fsync(fd) != 0 { fail("fsync \(path)") }
    }
    if !fsyncEach, fsync(fd) != 0 { fail("fsync \(path)") }
    close(fd)
    unlink(path)
  }

  /// `count` files of `size` bytes in a new folder, the folder fsynced,
  /// every file read back, then all removed.
  static func smallFiles(_ dir: String, count: Int, size: Int) {
    let folder = dir + "/small"
    if mkdir(folder, 0o755) != 0 { fail("mkdir \(folder)") }
    let buffer = [UInt8](repeating: 0x33, count: size)
    for i in 0..<count {
      let path = folder + "/f\(i)"
      let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
      if fd < 0 { fail("open \(path)") }
      writeAll(fd, buffer, path)
      close(fd)
    }
    let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd < 0 || fsync(fd) != 0 { fail("fsync \(folder)") }
    close(fd)
    var back = [UInt8](repeating: 0, count: size)
    for i in 0..<count {
      let path = folder + "/f\(i)"
      let fd = open(path, O_RDONLY | O_CLOEXEC)
      let n = back.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if fd < 0 || n != size { fail("read \(path)") }
      close(fd)
    }
    for i in 0..<count { unlink(folder + "/f\(i)") }
    rmdir(folder)
  }

  static func run(arguments: [String]) {
    var args = arguments
    var layer = ""
    var plain = ""
    var rounds = 5
    while args.count >= 2 {
      let flag = args.removeFirst()
      let value = args.removeFirst()
      switch flag {
      case "--layer": layer = value
      case "--plain": plain = value
      case "--rounds": rounds = Int(value) ?? rounds
      default: usage()
      }
    }
    if layer.isEmpty || plain.isEmpty || !args.isEmpty { usage() }
    let clock = ContinuousClock()
    for round in 0...rounds {
      for scenario in scenarios {
        for (target, dir) in [("plain", plain), ("layer", layer)] {
          let elapsed = clock.measure { scenario.run(dir) }
          print("\(scenario.name) \(target) \(round) \(String(format: "%.6f", elapsed.seconds))")
        }
      }
    }
  }
}

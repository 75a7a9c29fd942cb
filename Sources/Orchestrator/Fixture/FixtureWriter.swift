import Foundation
import Manifest

/// Writes the fixture folder: per-instance folders, rendered files, logs,
/// control shims, `iNNN` links, `spec.json`. Refuses to write through a
/// symbolic link, so a folder replaced by a link to `/etc` is never written
/// into; below `bindmounts`, which an instance may own, it writes by
/// descriptor (``Folder``), so not even a link swapped in mid-write is followed.
struct FixtureWriter {
  let paths: FixturePaths
  let fm = FileManager.default

  /// Creates the instance's folders, its empty log, and writes its files.
  func prepare(_ d: DesiredInstance, mounts: [String]) throws {
    let dir = paths.instanceFolder(ip: d.ip)
    try makeFolder(dir)
    try makeFolder(dir + "/bindmounts")
    for m in mounts { try makeFolder(paths.mountFolder(ip: d.ip, mount: m)) }
    if mounts.contains("var") {
      let log = paths.file(ip: d.ip, path: "var/\(d.name).log")
      var st = stat()
      if lstat(log, &st) != 0 { try Folder(path: dir + "/bindmounts").folder("var").write("\(d.name).log", Data(), owner: d.owner) }
    }
    try writeFiles(d, mounts: mounts)
    let pid = dir + "/pid.txt"
    if !fm.fileExists(atPath: pid) { try AtomicFile.write(Data(), to: pid) }
  }

  /// Writes the instance's files below `bindmounts`, by descriptor (see
  /// ``Folder``); then, when the instance has an ``FileOwner``, gives it
  /// each of its mount folders and all they hold, so it can write its `var`
  /// and read its `etc` whoever it runs as. `bindmounts` itself, the
  /// instance folder, `control` and `pid.txt` stay cthulhu's: an instance
  /// cannot replace its mount folders, nor the script its users run.
  func writeFiles(_ d: DesiredInstance, mounts: [String]) throws {
    let bindmounts = paths.instanceFolder(ip: d.ip) + "/bindmounts"
    try makeFolder(paths.instanceFolder(ip: d.ip))
    try makeFolder(bindmounts)
    let base = try Folder(path: bindmounts)
    for f in d.files {
      let parts = f.path.split(separator: "/").map(String.init)
      var folder = base
      for part in parts.dropLast() { folder = try folder.folder(part) }
      try folder.write(parts.last!, f.content, mode: mode_t(f.mode), owner: d.owner)
    }
    guard let owner = d.owner else { return }
    let owned = Set(mounts + d.files.compactMap { $0.path.split(separator: "/").first.map(String.init) })
    for m in owned.sorted() { try base.folder(m).give(to: owner) }
  }

  func makeFolder(_ path: String) throws {
    var st = stat()
    if lstat(path, &st) == 0 {
      if st.st_mode & S_IFMT == S_IFLNK {
        throw OrchestratorError(.io, "\(path) is a symbolic link; cthulhu does not write through links (remove it and apply again)")
      }
      guard st.st_mode & S_IFMT == S_IFDIR else {
        throw OrchestratorError(.io, "\(path) exists and is not a folder")
      }
      return
    }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw OrchestratorError.io(path: path, errno: errno) }
  }

  func writePID(_ pid: Int32, ip: IPv4Address) throws {
    try AtomicFile.write(Data((pid > 0 ? "\(pid)\n" : "").utf8), to: paths.instanceFolder(ip: ip) + "/pid.txt")
  }

  /// Removes an instance's folder and link (the link only if it is one).
  /// Neither is followed: see ``SafeTree``.
  func removeInstance(name: String, ip: IPv4Address) throws {
    var st = stat()
    if lstat(paths.link(name: name), &st) == 0, st.st_mode & S_IFMT == S_IFLNK { try SafeTree.remove(name, inFolder: paths.root) }
    try SafeTree.remove(ip.description, inFolder: paths.root)
  }

  /// Links, control shims and `spec.json` from the state: cheap, rewritten after every apply.
  func writeIndex(state: FixtureState, binary: String) throws {
    try makeFolder(paths.root)
    // Links: relative, so the fixture folder can move.
    let wanted = Set(state.instances.map(\.name))
    for entry in (try? fm.contentsOfDirectory(atPath: paths.root)) ?? [] where InstanceName.ordinal(entry) != nil && !wanted.contains(entry) {
      if (try? fm.destinationOfSymbolicLink(atPath: paths.link(name: entry))) != nil { try SafeTree.remove(entry, inFolder: paths.root) }
    }
    for r in state.instances {
      let link = paths.link(name: r.name)
      if let dest = try? fm.destinationOfSymbolicLink(atPath: link) {
        if dest == r.ip.description { continue }
        try SafeTree.remove(r.name, inFolder: paths.root)
      }
      try fm.createSymbolicLink(atPath: link, withDestinationPath: r.ip.description)
      try ControlScript.writeInstance(at: paths.instanceFolder(ip: r.ip) + "/control", binary: binary, root: paths.root, instance: r.name)
    }
    try ControlScript.writeFixture(at: paths.control, binary: binary, root: paths.root)
    try AtomicFile.write(try SpecFile.make(state: state), to: paths.spec)
    try AtomicFile.write(try SpecFile.fixture(state: state), to: paths.fixtureInfo)
  }
}

/// `spec.json`, in the original tool's shape: an object keyed by instance
/// name, each holding `ip`, `root` (its folder) and `port` (the first
/// published host port, null when none is published), and cthulhu's
/// additions (`name`, `group`, `id`, `ports`). Nothing else is at the top
/// level, so `jq -r .i001.port spec.json` and `jq -r 'keys[]' spec.json`
/// work as they did; fixture-wide facts are in `fixture.json`.
enum SpecFile {
  static func make(state: FixtureState) throws -> Data {
    var instances: [String: Any] = [:]
    let paths = FixturePaths(root: state.root)
    for r in state.instances {
      var entry: [String: Any] = [
        "name": r.name, "group": r.group, "ip": r.ip.description,
        "root": paths.instanceFolder(ip: r.ip), "id": r.containerID ?? NSNull(),
      ]
      let published = r.ports.filter { $0.host != nil }
      entry["ports"] = Dictionary(
        published.map { ("\($0.container)/\($0.proto)", $0.host!) }, uniquingKeysWith: { a, _ in a })
      entry["port"] = published.first?.host ?? NSNull()
      instances[r.name] = entry
    }
    return try JSONSerialization.data(withJSONObject: instances, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
  }

  /// `fixture.json`: the fixture's name, folder, driver, subnet and instance names.
  static func fixture(state: FixtureState) throws -> Data {
    let doc: [String: Any] = [
      "fixture": state.fixture, "root": state.root, "driver": state.driver.rawValue,
      "subnet": state.subnet?.description ?? NSNull(), "instances": state.instances.map(\.name),
    ]
    return try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
  }
}

/// The POSIX shims in the fixture folder. They hold no docker commands and no
/// manifest values: only the binary path and the fixture folder, quoted.
enum ControlScript {
  static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  static func writeFixture(at path: String, binary: String, root: String) throws {
    let script = """
      #!/bin/sh
      # cthulhu fixture control: ./control VERB [ARGS…]; ./control help lists the verbs.
      here=$(cd "$(dirname "$0")" && pwd)
      bin=${CTHULHU_BIN:-\(quote(binary))}
      exec "$bin" control --fixture "$here" "$@"

      """
    try AtomicFile.write(Data(script.utf8), to: path, mode: 0o755)
  }

  static func writeInstance(at path: String, binary: String, root: String, instance: String) throws {
    let script = """
      #!/bin/sh
      # cthulhu instance control for \(instance): ./control VERB [ARGS…]
      here=$(cd "$(dirname "$0")/.." && pwd)
      bin=${CTHULHU_BIN:-\(quote(binary))}
      exec "$bin" control --fixture "$here" --instance \(quote(instance)) "$@"

      """
    try AtomicFile.write(Data(script.utf8), to: path, mode: 0o755)
  }
}

import Foundation
import Manifest

/// Writes the fixture folder: per-instance folders, rendered files, logs,
/// control shims, `iNNN` links, `spec.json`. Refuses to write through a
/// symbolic link, so a folder replaced by a link to `/etc` is never written
/// into; below `bindmounts`, which an instance may own, it writes by
/// descriptor (``Folder``), so not even a link swapped in mid-write is followed.
///
/// Every file is written atomically (temp file, rename), so a killed
/// cthulhu never leaves a torn one. Per-instance files are not fsync'd (an
/// fsync each cost more than the rest of an instance's start): the state
/// journal is what must survive a power loss, and from it the next plan
/// re-hashes each rendered file (a lost one is rewritten) and the next
/// apply's index rewrites a link or control shim that is missing. The
/// fixture-wide `spec.json`, `fixture.json` and `control` are fsync'd.
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
      if lstat(log, &st) != 0 { try Folder(path: dir + "/bindmounts").folder("var").write("\(d.name).log", Data(), owner: d.owner, durable: false) }
    }
    try writeFiles(d, mounts: mounts)
    try makeEmptyFile(dir + "/pid.txt")
    // clock_skew: the folder of the timestamp file libfaketime reads (a container binds it).
    if d.container.env.contains(where: { $0.hasPrefix("FAKETIME_TIMESTAMP_FILE=") }) {
      try makeFolder(dir + "/clock")
      if d.container.binds.contains(where: { $0.container.hasPrefix("/dev/shm/") }) { try ClockSkew.makeSharedFiles(folder: dir + "/clock") }
    }
  }

  /// Creates an empty file unless something is there (an empty file cannot
  /// be torn: no temporary file and rename). Never through a link.
  func makeEmptyFile(_ path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard fd >= 0 else {
      if errno == EEXIST { return }
      throw OrchestratorError.io(path: path, errno: errno)
    }
    close(fd)
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
      try folder.write(parts.last!, f.content, mode: mode_t(f.mode), owner: d.owner, durable: false)
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
    try AtomicFile.write(Data((pid > 0 ? "\(pid)\n" : "").utf8), to: paths.instanceFolder(ip: ip) + "/pid.txt", durable: false)
  }

  /// Removes an instance's folder and link (the link only if it is one).
  /// Neither is followed: see ``SafeTree``.
  func removeInstance(name: String, ip: IPv4Address) throws {
    var st = stat()
    if lstat(paths.link(name: name), &st) == 0, st.st_mode & S_IFMT == S_IFLNK { try SafeTree.remove(name, inFolder: paths.root) }
    try SafeTree.remove(ip.description, inFolder: paths.root)
  }

  /// The target of a symbolic link; nil when `path` is none.
  static func readLink(_ path: String) -> String? {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink(path, &buf, buf.count - 1)
    guard n >= 0 else { return nil }
    return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// Links, control shims and `spec.json` from the state: cheap, rewritten after every apply.
  func writeIndex(state: FixtureState, binary: String) throws {
    try makeFolder(paths.root)
    // Links: relative, so the fixture folder can move.
    // A link of an instance no longer wanted goes, if cthulhu recorded making it
    // (a link of that name someone else put there is not ours).
    let wanted = Set(state.instances.map(\.name))
    let made = Set(state.entries ?? [])
    for entry in (try? fm.contentsOfDirectory(atPath: paths.root)) ?? []
    where InstanceName.ordinal(entry) != nil && !wanted.contains(entry) && made.contains(entry) {
      if (try? fm.destinationOfSymbolicLink(atPath: paths.link(name: entry))) != nil { try SafeTree.remove(entry, inFolder: paths.root) }
    }
    for r in state.instances {
      let link = paths.link(name: r.name)
      let control = paths.instanceFolder(ip: r.ip) + "/control"
      let dest = Self.readLink(link)
      if dest != r.ip.description {
        if dest != nil { try SafeTree.remove(r.name, inFolder: paths.root) }
        guard symlink(r.ip.description, link) == 0 else { throw OrchestratorError.io(path: link, errno: errno) }
      } else {
        // Linked already: its shim is rewritten only if it went missing
        // (or empty, as a power loss may leave a file never synced).
        var st = stat()
        if stat(control, &st) == 0 && st.st_size > 0 { continue }
        if stat(paths.instanceFolder(ip: r.ip), &st) != 0 || st.st_mode & S_IFMT != S_IFDIR { continue }
      }
      try ControlScript.writeInstance(at: control, binary: binary, root: paths.root, instance: r.name)
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
///
/// Written out by hand, byte for byte as `JSONSerialization` (sorted keys,
/// pretty-printed, slashes unescaped) wrote it: that sorted every key with
/// a locale-aware comparison and took a fifth of writing the index of 1,000
/// instances. Instance names come in the state's order, which is the
/// numeric order that comparison gives them; SpecFileTests checks the bytes.
enum SpecFile {
  static func make(state: FixtureState) throws -> Data {
    guard !state.instances.isEmpty else { return Data("{\n\n}".utf8) }
    let paths = FixturePaths(root: state.root)
    var out = "{\n"
    for (i, r) in state.instances.enumerated() {
      let published = r.ports.filter { $0.host != nil }
      let ports = Dictionary(published.map { ("\($0.container)/\($0.proto)", $0.host!) }, uniquingKeysWith: { a, _ in a })
      out += "  \(try quoted(r.name)) : {\n"
      out += "    \"group\" : \(try quoted(r.group)),\n"
      out += "    \"id\" : \(try r.containerID.map(quoted) ?? "null"),\n"
      out += "    \"ip\" : \(try quoted(r.ip.description)),\n"
      out += "    \"name\" : \(try quoted(r.name)),\n"
      if let node = r.spec?.labels[Labels.node] { out += "    \"node\" : \(try quoted(node)),\n" }
      out += "    \"port\" : \(published.first?.host.map(String.init) ?? "null"),\n"
      if ports.isEmpty {
        out += "    \"ports\" : {\n\n    },\n"
      } else {
        let keys = ports.keys.sorted(by: serializationOrder)
        out += "    \"ports\" : {\n" + (try keys.map { "      \(try quoted($0)) : \(ports[$0]!)" }.joined(separator: ",\n")) + "\n    },\n"
      }
      out += "    \"root\" : \(try quoted(paths.instanceFolder(ip: r.ip)))\n"
      out += i == state.instances.count - 1 ? "  }\n" : "  },\n"
    }
    out += "}"
    return Data(out.utf8)
  }

  /// A JSON string: printable ASCII other than `"` and `\\` as it is, anything
  /// else as `JSONSerialization` escapes it.
  static func quoted(_ s: String) throws -> String {
    if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) { return "\"" + s + "\"" }
    return String(decoding: try JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes]), as: UTF8.self)
  }

  /// The key order of `JSONSerialization`'s `.sortedKeys`.
  static func serializationOrder(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: [.numeric, .caseInsensitive, .forcedOrdering], range: a.startIndex..<a.endIndex, locale: Locale.current)
      == .orderedAscending
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
    try AtomicFile.write(Data(script.utf8), to: path, mode: 0o755, durable: false)
  }
}

extension Manifest {
  /// Each group's mount names: what ``FixtureWriter/prepare(_:mounts:)`` makes folders for.
  var mountNamesByGroup: [String: [String]] {
    Dictionary(groups.map { ($0.name, $0.mounts.map(\.name)) }, uniquingKeysWith: { a, _ in a })
  }
}

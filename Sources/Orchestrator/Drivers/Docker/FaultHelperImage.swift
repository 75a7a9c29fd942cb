import Foundation

/// The fault helper's image, made on this machine from its own binaries:
/// no registry is needed (none may be reachable), and the helper runs
/// exactly the `iptables` (same variant: nft or legacy) and `tc` that the
/// host path runs, so rules made by either path are seen and removed by the
/// other.
///
/// The root file system holds the programs the enforcer calls
/// (`iptables`, `iptables-restore`, `iptables-save` as the host's `iptables`
/// resolves them, `tc`, `ip`), the shared libraries `ldd` lists for them,
/// the xtables extensions (loaded at run time, `XTABLES_LIBDIR`), tc's delay
/// distribution tables (`TC_LIB_DIR`), and a static busybox for `sh` and
/// `sleep`. Entries are sorted, owners and times zeroed, so the same host
/// files give the same archive; its sha256 names the image:
/// `cthulhu-nethelper:<first 12 hex digits>`, labelled
/// `io.cthulhu.fault-helper-image=<whole hash>`. It is imported
/// (`POST /images/create?fromSrc=-`) on each engine that lacks it and kept
/// there as a cache shared by every fixture (no `destroy` removes it).
struct FaultHelperImage: Sendable {
  static let repository = "cthulhu-nethelper"
  static let label = "io.cthulhu.fault-helper-image"

  /// The archive of the root file system.
  var archive: [UInt8]
  /// sha256 of `archive`, hex.
  var hash: String
  /// What the helper's processes need in their environment.
  var env: [String]

  var tag: String { "\(Self.repository):\(hash.prefix(12))" }

  /// The programs the enforcer runs, found as the host path finds them.
  static let tools = ["iptables", "iptables-restore", "iptables-save", "tc", "ip", "busybox"]

  /// What goes into the image, found without reading it: the programs, the
  /// extensions and tables, the environment, and ``Source/key``.
  struct Source: Sendable {
    /// Path in the image → file on the host.
    var files: [String: String] = [:]
    /// Path in the image → link target.
    var links: [String: String] = [:]
    /// The files whose shared libraries go in too.
    var elves: [String] = []
    var env: [String] = []
    /// sha256 over the path, size, modification time and inode of every
    /// file above and of `/etc/ld.so.cache` (rewritten whenever a library is
    /// installed or upgraded): an image labelled with it was made from these
    /// same files, so a fault command finds it without making the archive.
    var key = ""
  }

  static let sourceLabel = "io.cthulhu.fault-helper-image.source"

  /// Finds the image's files on this machine (cheap: no file is read).
  static func source() throws -> Source {
    var src = Source()
    for tool in tools {
      guard let found = HostCommand.locate(tool) else {
        throw DriverError(
          .unsupported,
          "\(tool) is not installed on this machine; the fault helper image is made from this machine's programs (Debian: \(tool == "busybox" ? "busybox-static" : HostCommand.package(tool)))"
        )
      }
      let real = URL(fileURLWithPath: found).resolvingSymlinksInPath().path
      src.files[real] = real
      src.elves.append(real)
      if tool != "busybox", (real as NSString).lastPathComponent != tool { src.links["/usr/sbin/\(tool)"] = real }
      if tool == "busybox" {
        for applet in ["sh", "sleep", "cat", "true"] { src.links["/bin/\(applet)"] = real }
      }
    }
    src.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
    // xtables extensions: beside libxtables, in `<libdir>/xtables`.
    if let dir = extensionFolder() {
      for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".so") {
        src.files[dir + "/" + name] = dir + "/" + name
        src.elves.append(dir + "/" + name)
      }
      src.env.append("XTABLES_LIBDIR=\(dir)")
    }
    // tc's distribution tables (netem's `distribution normal`).
    if let dir = ["/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/aarch64-linux-gnu/tc", "/usr/lib64/tc", "/usr/lib/tc"].first(where: {
      FileManager.default.fileExists(atPath: $0 + "/normal.dist")
    }) {
      for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".dist") {
        src.files[dir + "/" + name] = dir + "/" + name
      }
      src.env.append("TC_LIB_DIR=\(dir)")
    }
    src.elves.sort()
    var facts: [String] = []
    for path in src.files.values.sorted() + ["/etc/ld.so.cache"] {
      var st = stat()
      guard stat(path, &st) == 0 else { continue }
      facts.append("\(path) \(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)")
    }
    facts += src.links.sorted { $0.key < $1.key }.map { "\($0.key) -> \($0.value)" } + src.env
    src.key = Hashing.sha256(facts.joined(separator: "\n"))
    return src
  }

  /// Assembles the image from this machine's files.
  static func make() async throws -> FaultHelperImage { try await make(source()) }

  static func make(_ src: Source) async throws -> FaultHelperImage {
    var files = src.files
    for lib in try await libraries(of: src.elves) where files[lib] == nil {
      files[lib] = URL(fileURLWithPath: lib).resolvingSymlinksInPath().path
    }
    var entries: [String: Tar.Entry] = [:]
    func folders(of path: String) {
      var parent = (path as NSString).deletingLastPathComponent
      while parent != "/" && !parent.isEmpty {
        let rel = String(parent.dropFirst())
        if entries[rel] == nil { entries[rel] = Tar.Entry(path: rel, mode: 0o755, kind: .folder) }
        parent = (parent as NSString).deletingLastPathComponent
      }
    }
    for (inImage, onHost) in files {
      guard let data = FileManager.default.contents(atPath: onHost) else {
        throw DriverError(.unsupported, "\(onHost) is unreadable; the fault helper image is made from it")
      }
      var st = stat()
      let mode = stat(onHost, &st) == 0 ? Int(st.st_mode & 0o755) : 0o755
      folders(of: inImage)
      entries[String(inImage.dropFirst())] = Tar.Entry(path: String(inImage.dropFirst()), mode: mode, kind: .file([UInt8](data)))
    }
    for (inImage, target) in src.links {
      folders(of: inImage)
      entries[String(inImage.dropFirst())] = Tar.Entry(path: String(inImage.dropFirst()), mode: 0o777, kind: .link(target))
    }
    entries["tmp"] = Tar.Entry(path: "tmp", mode: 0o1777, kind: .folder)
    entries["run"] = Tar.Entry(path: "run", mode: 0o755, kind: .folder)
    entries["etc"] = Tar.Entry(path: "etc", mode: 0o755, kind: .folder)
    // Sorted by path: a folder comes before what it holds.
    let archive = try Tar.archive(entries: entries.values.sorted { $0.path < $1.path })
    let hash = Hashing.sha256(Data(archive))
    return FaultHelperImage(archive: archive, hash: hash, env: src.env)
  }

  /// The folder of xtables extensions that `iptables` loads (it holds
  /// `libxt_standard.so`).
  static func extensionFolder() -> String? {
    var candidates = ["/usr/lib/xtables", "/usr/lib64/xtables", "/lib/xtables", "/usr/libexec/xtables"]
    if let arch = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib") {
      candidates = arch.filter { $0.hasSuffix("-linux-gnu") }.sorted().map { "/usr/lib/\($0)/xtables" } + candidates
    }
    return candidates.first { FileManager.default.fileExists(atPath: $0 + "/libxt_standard.so") }
  }

  /// The shared libraries (and the program interpreter) that `ldd` lists
  /// for `files`, as the paths the loader will look them up by.
  static func libraries(of files: [String]) async throws -> Set<String> {
    let r = try await HostCommand.run(["ldd"] + files, timeout: .seconds(60))
    // A static program makes ldd say so and exit 1; the others are listed all the same.
    var libs = Set<String>()
    for line in r.stdout.split(separator: "\n") where !line.hasSuffix(":") {
      for word in line.split(whereSeparator: { $0 == " " || $0 == "\t" }) where word.hasPrefix("/") { libs.insert(String(word)) }
    }
    if libs.isEmpty && r.status != 0 {
      throw DriverError(
        .unsupported, "ldd could not list the libraries of the fault helper's programs: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
    }
    return libs
  }

  /// The architecture of this machine as the engine names it (`Arch` of `/version`).
  static var hostArchitecture: String {
    #if arch(x86_64)
    "amd64"
    #elseif arch(arm64)
    "arm64"
    #else
    "unknown"
    #endif
  }
}

/// What one process knows of the helper image: its files (found once),
/// the archive (made only when some engine lacks the image), and the tag
/// each engine holds it under.
actor FaultHelperImageCache {
  private var found: FaultHelperImage.Source?
  private var making: Task<FaultHelperImage, any Error>?
  /// Engines (by socket) and the tag they hold the image under.
  private var present: [String: Task<String, any Error>] = [:]

  func source() throws -> FaultHelperImage.Source {
    if let found { return found }
    let s = try FaultHelperImage.source()
    found = s
    return s
  }

  func image() async throws -> FaultHelperImage {
    if let making { return try await making.value }
    let src = try source()
    let task = Task { try await FaultHelperImage.make(src) }
    making = task
    do { return try await task.value } catch {
      making = nil
      throw error
    }
  }

  /// Runs `put` once per engine (concurrent callers share it); a failure is not kept.
  func tag(engine: String, _ put: @escaping @Sendable () async throws -> String) async throws -> String {
    if let task = present[engine] { return try await task.value }
    let task = Task { try await put() }
    present[engine] = task
    do { return try await task.value } catch {
      present[engine] = nil
      throw error
    }
  }
}

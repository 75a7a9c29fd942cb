import ArgumentParser
import Foundation

extension Cthulhu {
  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "init",
      abstract: "Write a starter manifest and template (the original's `cthulhu --instances 3 --docker-image app`).")

    @Option(help: "How many instances.") var instances: Int = 3
    @Option(help: "Run every instance from this image on Docker (default: host processes, the embedded driver, which needs no engine).")
    var image: String?
    @Option(help: "The fixture name (default: from the folder).") var fixture: String?
    @Flag(help: "Overwrite existing files.") var force = false
    @Argument(help: "Where to write the manifest.") var path: String = "cthulhu.yaml"

    func validate() throws {
      guard (1...1000).contains(instances) else { throw ValidationError("Please give --instances a number from 1 to 1000.") }
      if let image, image.isEmpty || image.contains(where: { $0.isWhitespace || $0 == "\"" }) {
        throw ValidationError("Please give --image an image reference such as app:1.")
      }
    }

    func run() async throws {
      let dir = (Input.absolute(path) as NSString).deletingLastPathComponent
      let name = fixture ?? Self.name(from: (dir as NSString).lastPathComponent)
      let template = dir + "/templates/config.json"
      for p in [Input.absolute(path), template] where FileManager.default.fileExists(atPath: p) && !force {
        Output.error("error: \(p) exists; init does not overwrite files without --force")
        throw ExitCode.failure
      }
      // Instances that keep running on any machine: on the process driver a
      // shell that says where it is and waits; with --image, the image's own command.
      let source: String
      if let image {
        source = """
              image: "\(image)"
              # command: ["/bin/app", "--config", "/opt/app/etc/config.json"]   # the image's own when absent
          """
      } else {
        source = """
              # Each instance is a host process; replace the command with your system's.
              command: ["/bin/sh", "-c", "echo \\"$CTHULHU_NAME up at $CTHULHU_IP, config in $CTHULHU_MOUNT_ETC\\"; exec sleep 2147483647"]
          """
      }
      let manifest = """
        # cthulhu manifest: `cthulhu plan` shows what `cthulhu apply` would do.
        fixture: \(name)
        \(image == nil ? "driver: process\n" : "")groups:
          node:
        \(source)
            count: \(instances)
            templates:
              - { source: templates/config.json, target: etc/config.json }

        """
      let config = """
        {
          "self": "{{ instance.ip }}",
          "name": "{{ instance.name }}",
          "peers": [{% for p in peers %}"{{ p.ip }}"{% if not forloop.last %}, {% endif %}{% endfor %}]
        }

        """
      try FileManager.default.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
      try manifest.write(toFile: Input.absolute(path), atomically: true, encoding: .utf8)
      try config.write(toFile: template, atomically: true, encoding: .utf8)
      let folder = (path as NSString).deletingLastPathComponent
      let shownTemplate = folder.isEmpty ? "templates/config.json" : folder + "/templates/config.json"
      let what = image.map { "of \($0)" } ?? "as host processes"
      Output.out("Wrote \(path) and \(shownTemplate) (fixture '\(name)', \(instances) instances \(what)); next: cthulhu apply \(path)\n")
    }

    /// A valid fixture name made from a folder name.
    static func name(from folder: String) -> String {
      var s = String(folder.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
      while s.hasPrefix("-") { s.removeFirst() }
      s = String(s.prefix(40))
      while s.hasSuffix("-") { s.removeLast() }
      return s.isEmpty ? "fixture" : s
    }
  }
}

import ArgumentParser
import Foundation
import Orchestrator

extension Cthulhu {
  /// The detached process behind `delay` on a kernel without netem: holds the
  /// packets one instance sends for their delay (``PacketDelayer``). Started
  /// and stopped by the fault commands; exits when the fault book no longer
  /// names it (heal, destroy, a newer delayer for the instance) or its
  /// namespace is gone.
  struct DelayDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_delay", shouldDisplay: false)
    @Option var fixture: String
    @Option var instance: String
    @Option(help: "The instance's network namespace: /proc/<pid>/ns/net or /run/netns/<name>.") var netns: String
    @Option(help: "The queues and their delays (JSON, PacketDelayer.Plan).") var plan: String

    func run() throws {
      let plan: PacketDelayer.Plan
      do {
        plan = try JSONDecoder().decode(PacketDelayer.Plan.self, from: Data(self.plan.utf8))
      } catch {
        FileHandle.standardError.write(Data("cthulhu _delay \(instance): unreadable --plan (\(error))\n".utf8))
        throw ExitCode(1)
      }
      let ready = PacketDelayerProcess.readyFile(root: fixture, instance: instance)
      let started = Date()
      let me = getpid()
      do {
        try PacketDelayer.run(
          namespace: netns, plan: plan,
          ready: { try Data("\(me)\n".utf8).write(to: URL(fileURLWithPath: ready), options: .atomic) },
          stillWanted: {
            // The fixture's record names this process (or has not had the time
            // to yet), and the namespace is still there (an instance removed
            // by apply, or a container's process gone, takes it away).
            guard FileManager.default.fileExists(atPath: fixture + "/.cthulhu"), FileManager.default.fileExists(atPath: netns) else { return false }
            guard let book = try? FaultBook.load(root: fixture) else { return true }
            if let pid = book.delayers?[instance] { return pid == me }
            return Date().timeIntervalSince(started) < 60
          })
      } catch {
        FileHandle.standardError.write(Data("cthulhu _delay \(instance): \(error)\n".utf8))
        throw ExitCode(1)
      }
      try? FileManager.default.removeItem(atPath: ready)
    }
  }
}

extension PacketDelayer.Distribution: ExpressibleByArgument {}

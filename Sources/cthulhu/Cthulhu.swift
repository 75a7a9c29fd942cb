import ArgumentParser

@main
struct Cthulhu: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "cthulhu",
    abstract: "Distributed-system test fixtures from a YAML manifest, exposed as a filesystem.",
    subcommands: [
      Validate.self, Plan.self, Apply.self, Destroy.self, Status.self, Schema.self, Init.self, Control.self, Logs.self, Exec.self, Events.self,
      Start.self, Stop.self, Restart.self, Kill.self, Pause.self, Unpause.self,
      Partition.self, Isolate.self, Loss.self, Rate.self, Delay.self, Heal.self, Faults.self, Reap.self,
    ]
  )
}

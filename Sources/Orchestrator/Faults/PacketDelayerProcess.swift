import Foundation

/// Starts and stops the detached `cthulhu _delay` processes (one per instance
/// whose delay is carried by ``PacketDelayer``), owned like the reaper: its
/// own session, output in `<root>/.cthulhu/helpers.log` (``HelperProcess``), its PID in the fault
/// book (`delayers`), stopped by `heal` and `destroy`, never a reused PID.
public enum PacketDelayerProcess {
  /// The file a delayer writes its PID to once it takes packets.
  public static func readyFile(root: String, instance: String) -> String { root + "/.cthulhu/delayer-\(instance).ready" }

  /// The `_delay` arguments for one instance (after the role).
  static func arguments(root: String, instance: String, namespace: String, plan: PacketDelayer.Plan) -> [String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let json = (try? encoder.encode(plan)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    return ["--fixture", root, "--instance", instance, "--netns", namespace, "--plan", json]
  }

  /// Starts a delayer and waits until it takes packets; returns its PID.
  public static func start(_ executable: CthulhuExecutable, root: String, instance: String, namespace: String, spec: PacketDelayer.Spec) async throws
    -> Int32
  {
    try await start(
      executable, root: root, instance: instance, namespace: namespace,
      plan: PacketDelayer.Plan(queues: [.init(number: PacketDelayer.queueNumber, specs: [spec])]))
  }

  /// Starts a delayer for every queue of `plan` and waits until it takes packets; returns its PID.
  public static func start(_ executable: CthulhuExecutable, root: String, instance: String, namespace: String, plan: PacketDelayer.Plan) async throws
    -> Int32
  {
    let ready = readyFile(root: root, instance: instance)
    try? FileManager.default.removeItem(atPath: ready)
    let pid = try HelperProcess.spawn(
      executable, .delayer, arguments: arguments(root: root, instance: instance, namespace: namespace, plan: plan), root: root)
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
      if let text = try? String(contentsOfFile: ready, encoding: .utf8), Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == pid {
        return pid
      }
      if !HelperProcess.isAlive(pid) {
        throw OrchestratorError(
          .step, "\(instance): the packet delayer (cthulhu _delay, pid \(pid)) exited before it took packets; see \(root)/.cthulhu/helpers.log")
      }
      try await Task.sleep(for: .milliseconds(10))
    }
    kill(pid, SIGKILL)
    throw OrchestratorError(
      .step, "\(instance): the packet delayer (pid \(pid)) did not bind its queue within 10 s; see \(root)/.cthulhu/helpers.log")
  }

  /// Stops the delayer `pid` if it is still the one cthulhu started for
  /// `instance` at `root`, and waits (up to 5 s) until it is gone, so that a
  /// new one can bind the queue.
  public static func stop(pid: Int32, root: String, instance: String) async {
    await HelperProcess.stop(pid: pid, .delayer, root: root, instance: instance, patience: .seconds(5))
  }

  public static func isDelayer(pid: Int32, root: String, instance: String) -> Bool {
    HelperProcess.isRunning(pid: pid, .delayer, root: root, instance: instance)
  }

  /// The seed of one instance's delays: the same fault on the same instance
  /// always draws the same sequence (FNV-1a).
  static func seed(fault: String, instance: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in "\(fault)/\(instance)".utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }
}

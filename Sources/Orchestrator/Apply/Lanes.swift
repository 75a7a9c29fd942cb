import Dispatch
import Synchronization

/// A task executor of a fixed number of threads, for tasks that block:
/// apply's steps and destroy's removals write files, take `flock`s and
/// spawn processes, and each such call holds its thread until it returns.
/// On the shared concurrency pool (one thread a core) two cores meant two
/// steps making progress, whatever `--parallel` said; on a disk where a
/// file removal waits for the device, eight lanes removed a fixture folder
/// eight times as fast as one.
///
/// Each lane is a serial dispatch queue (its own thread while it has work);
/// jobs go to the lanes in turn. A task runs one job at a time, so it is
/// never on two lanes at once.
final class Lanes: TaskExecutor {
  private let queues: [DispatchQueue]
  private let turn = Atomic<Int>(0)

  init(_ count: Int, label: String) {
    queues = (0..<max(1, count)).map { DispatchQueue(label: "cthulhu.\(label).\($0)") }
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let i = turn.wrappingAdd(1, ordering: .relaxed).oldValue
    queues[i % queues.count].async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }
}

// Times the pure half of cthulhu (load, resolve, observe, diff) for a large
// manifest against the in-memory engine, so `bench/run` can measure plan
// cost without Docker: `cthulhu-bench plan --instances 1000 --rounds 7`
// (which also applies once and plans the converged fixture), or
// `cthulhu-bench apply --instances 1000 --rounds 3` (only applies: a fresh
// engine and folder each round; this writes the fixture folder and its state).
// Prints one line per measurement: `SCENARIO ROUND SECONDS`. The disk
// layer's overhead: `cthulhu-bench disk` (DiskWorkload.swift).
import Foundation
import Manifest
import Orchestrator

func usage() -> Never {
  FileHandle.standardError.write(
    Data(
      "usage: cthulhu-bench plan|apply [--instances N] [--rounds R] [--dir DIR]\n       cthulhu-bench disk --layer DIR --plain DIR [--rounds R]\n"
        .utf8))
  exit(2)
}

var args = Array(CommandLine.arguments.dropFirst())
if args.first == "disk" {
  DiskWorkload.run(arguments: Array(args.dropFirst()))
  exit(0)
}
guard let command = args.first, ["plan", "apply"].contains(command) else { usage() }
args.removeFirst()
var instances = 1000
var rounds = 7
var parent = NSTemporaryDirectory()
while !args.isEmpty {
  let flag = args.removeFirst()
  guard let value = args.first else { usage() }
  args.removeFirst()
  switch flag {
  case "--instances": instances = Int(value) ?? { usage() }()
  case "--rounds": rounds = Int(value) ?? { usage() }()
  case "--dir": parent = value
  default: usage()
  }
}

let fm = FileManager.default
// The cthulhu that `swift build` puts beside this program: the fixture's
// control shims name it (the in-memory engine starts no helper).
let cthulhu = CthulhuExecutable(
  path: ((Bundle.main.executablePath ?? CommandLine.arguments[0]) as NSString).deletingLastPathComponent + "/cthulhu")
// A new folder of its own below --dir (mkdtemp), so the removals below
// never touch a folder that was there before.
try fm.createDirectory(atPath: parent, withIntermediateDirectories: true)
var template = Array((parent + "/cthulhu-bench.XXXXXX").utf8CString)
guard let made = mkdtemp(&template) else { fatalError("cannot make a folder in \(parent): \(String(cString: strerror(errno)))") }
let dir = String(cString: made)
try fm.createDirectory(atPath: dir + "/templates", withIntermediateDirectories: true)
defer { try? fm.removeItem(atPath: dir) }
try "{\"self\": \"{{ instance.ip }}\", \"name\": \"{{ instance.name }}\"}\n"
  .write(toFile: dir + "/templates/config.json", atomically: true, encoding: .utf8)
// A /22 holds 1,021 instances; the manifest allows at most 1,000.
try """
fixture: bench-plan
network: { subnet: 10.99.0.0/22 }
groups:
  node:
    image: cthulhu-test:latest
    count: \(instances)
    command: ["sleep", "3600"]
    memory: 16m
    templates:
      - { source: templates/config.json, target: etc/config.json }
""".write(toFile: dir + "/cthulhu.yaml", atomically: true, encoding: .utf8)

let clock = ContinuousClock()
func seconds(_ d: Duration) -> String {
  String(format: "%.6f", d.seconds)
}
func report(_ scenario: String, _ round: Int, _ d: Duration) {
  print("\(scenario) \(round) \(seconds(d))")
}

if command == "apply" {
  for r in 0...rounds {  // round 0 is the warm-up
    let controller = FixtureController(driver: MemoryDriver(images: ["cthulhu-test:latest"]), executable: cthulhu)
    let m = try ManifestLoader.load(path: dir + "/cthulhu.yaml")
    try? fm.removeItem(atPath: m.root)
    let t0 = clock.now
    let applied = try await controller.apply(try await controller.plan(m))
    let t1 = clock.now
    precondition(applied.failures.isEmpty, "apply to the in-memory engine failed: \(applied.failures)")
    report("apply-\(instances)-memory", r, t1 - t0)
  }
  try? fm.removeItem(atPath: dir)  // (exit skips the defer above)
  exit(0)
}

let controller = FixtureController(driver: MemoryDriver(images: ["cthulhu-test:latest"]), executable: cthulhu)
var manifest: Manifest! = nil
for r in 0...rounds {  // round 0 is the warm-up
  let t0 = clock.now
  manifest = try ManifestLoader.load(path: dir + "/cthulhu.yaml")
  let t1 = clock.now
  let p = try await controller.plan(manifest)
  let t2 = clock.now
  precondition(p.plan.steps.count == instances + 1, "an empty state plans every instance and the network")
  report("load-\(instances)", r, t1 - t0)
  report("plan-\(instances)-empty", r, t2 - t1)
}
let t0 = clock.now
let applied = try await controller.apply(try await controller.plan(manifest))
precondition(applied.failures.isEmpty, "apply to the in-memory engine failed: \(applied.failures)")
report("apply-\(instances)-memory", 1, clock.now - t0)
for r in 0...rounds {
  let t1 = clock.now
  let p = try await controller.plan(manifest)
  let t2 = clock.now
  precondition(!p.plan.hasChanges, "a converged fixture plans no change")
  report("plan-\(instances)-converged", r, t2 - t1)
}

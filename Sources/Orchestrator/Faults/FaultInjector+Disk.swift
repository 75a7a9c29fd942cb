import Foundation
import Manifest

/// Disk faults (`disk delay`, `disk error`): the fault book says which
/// rules each disk layer holds; every change of the book sends each layer
/// whose rules changed exactly the book's rules for it (`set`, or `clear`
/// when none), so sending them again changes nothing.
extension FaultInjector {
  /// The rules `book` puts in `layer`, in the order the faults were made,
  /// each with its seed mixed with the layer's (see ``DiskLayers/Layer/seed(_:)``).
  static func diskRules(book: FaultBook, layer: DiskLayers.Layer) -> [DiskFaultRule] { diskFaults(book: book, layer: layer).map(\.rule) }

  /// The disk faults of `book` in `layer`, each with the rule the layer holds for it.
  static func diskFaults(book: FaultBook, layer: DiskLayers.Layer) -> [(id: String, rule: DiskFaultRule)] {
    book.faults.compactMap { f in
      guard f.kind == .disk, let rule = f.diskRule, f.targets.contains(layer.instance), f.diskMount.map({ $0 == layer.mount }) ?? true
      else { return nil }
      return (f.id, (try? DiskFaultRule(rule.action, ops: rule.ops, path: rule.path, percent: rule.percent, seed: layer.seed(rule.seed))) ?? rule)
    }
  }

  /// Refuses, before anything changes, a disk fault on an instance whose
  /// layer (on `mount`, or any) is not there or not running.
  func checkDisk(_ names: [String], mount: String?, root: String) throws {
    let state = try FixtureState.require(root: root)
    _ = try DiskLayers(root: root).serving(names, mount: mount, state: state)
  }

  /// Sends each running layer whose rules differ between `old` and `new`
  /// the rules of `new`. `done` gathers each layer changed with its former
  /// rules, for ``restoreDiskRules(_:)``. Returns the instances changed.
  func setDiskRules(old: FaultBook, new: FaultBook, root: String, done: inout [(DiskLayers.Layer, [DiskFaultRule])]) throws -> Set<String> {
    guard (old.faults + new.faults).contains(where: { $0.kind == .disk }) else { return [] }
    let layers = DiskLayers(root: root)
    var changed: Set<String> = []
    let table = MountTable.current()
    for l in layers.recorded() {
      let before = Self.diskRules(book: old, layer: l)
      let after = Self.diskRules(book: new, layer: l)
      // A layer that does not run holds no rules; apply starts it anew and puts them back.
      guard before != after, layers.running(l, table: table) != nil else { continue }
      _ = try DiskLayerClient.request(.rules(after.isEmpty ? .clear : .set(after)), socket: l.socket, timeout: .seconds(10))
      done.append((l, before))
      changed.insert(l.instance)
    }
    return changed
  }

  /// Puts back the rules `setDiskRules` replaced (best effort: a change failed half-way).
  func restoreDiskRules(_ done: [(DiskLayers.Layer, [DiskFaultRule])]) {
    for (l, rules) in done {
      _ = try? DiskLayerClient.request(.rules(rules.isEmpty ? .clear : .set(rules)), socket: l.socket, timeout: .seconds(10))
    }
  }

  /// Puts the book's rules back into the running layers of `names` that do
  /// not hold exactly them (a layer made anew by apply holds none); a layer
  /// that holds them keeps its counts. Returns the instances changed.
  func reapplyDiskRules(root: String, names: [String]) throws -> [String] {
    let layers = DiskLayers(root: root)
    let mine = layers.recorded().filter { names.contains($0.instance) }
    guard !mine.isEmpty else { return [] }
    // Under the fault lock: a fault made meanwhile is either in the book read here or sent after.
    let lock = try FixtureLock(paths: FixturePaths(root: root), command: "reapply", file: "faults.lock", wait: .seconds(30))
    defer { lock.release() }
    let book = try FaultBook.load(root: root)
    var changed: Set<String> = []
    let table = MountTable.current()
    for l in mine where layers.running(l, table: table) != nil {
      let wanted = Self.diskRules(book: book, layer: l)
      let held = try DiskLayerClient.request(.status, socket: l.socket, timeout: .seconds(10)).status?.rules.map(\.rule) ?? []
      guard held != wanted else { continue }
      _ = try DiskLayerClient.request(.rules(wanted.isEmpty ? .clear : .set(wanted)), socket: l.socket, timeout: .seconds(10))
      changed.insert(l.instance)
    }
    return changed.sorted()
  }

}

import Foundation
import Manifest

/// `destroy` across drivers: which engines to ask for a fixture, in which
/// order, and which of their answers mean "not here" rather than failure.
/// The CLI renders what this returns; it decides nothing.
public struct Teardown: Sendable {
  public var keepFiles = false
  public var removeImages = false
  /// Called with (removed, total) as removals finish.
  public var progress: (@Sendable (Int, Int) -> Void)?

  /// (Destroy runs no cthulhu binary: it only stops the helpers it finds.)
  public init(keepFiles: Bool = false, removeImages: Bool = false, progress: (@Sendable (Int, Int) -> Void)? = nil) {
    self.keepFiles = keepFiles
    self.removeImages = removeImages
    self.progress = progress
  }

  /// What was destroyed, and what could not be looked at (an engine that did
  /// not answer while others were asked too).
  public struct Outcome: Sendable {
    public var destroyed: [(root: String, report: FixtureDestroyer.DestroyReport)] = []
    public var notes: [String] = []
  }

  /// Every driver, in the order a fixture found by label is looked for: the
  /// swarm first, so that where `DOCKER_HOST` is a swarm's manager a swarm
  /// fixture is destroyed on every node, not as the docker driver's
  /// containers on the manager's node only. (Where the engine is no swarm
  /// manager, or does not answer, the swarm driver is passed over without a
  /// word: the docker driver asks the same engine next.)
  public static let everyDriver: [DriverKind] = [.swarm, .docker, .process]

  /// The drivers to ask about the fixture at `root`: the state names its
  /// driver; without a state (lost, unreadable) the manifest does; without
  /// that, every driver is asked.
  public static func drivers(root: String, manifest: Manifest?) -> [DriverKind] {
    let state = try? FixtureState.load(root: root)
    return state.map { [$0.driver] } ?? manifest.map { [$0.driver] } ?? everyDriver
  }

  /// Destroys the fixture at `root` with each driver in turn; a driver that
  /// finds nothing, or (when several are asked) does not answer, is passed over.
  public func destroy(root: String, fixture: String?, kinds: [DriverKind]) async throws -> Outcome {
    var out = Outcome()
    for kind in kinds {
      do {
        let report = try await Drivers.with(kind) {
          try await FixtureDestroyer(driver: $0, executable: nil).destroy(
            root: root, fixture: fixture, keepFiles: keepFiles, removeImages: removeImages, progress: progress)
        }
        out.destroyed.append((root, report))
      } catch let e as OrchestratorError where e.code == .noFixture {
        continue
      } catch let e as DriverError where Self.passedOver(e, kind: kind, asking: kinds.count) {
        if kind != .swarm { out.notes.append("\(e) (its containers were not looked for)") }
      }
    }
    return out
  }

  /// `destroy --fixture-name`: every folder the fixture `name` was made
  /// from, found by label on every driver, destroyed.
  public func destroy(named name: String) async throws -> Outcome {
    var out = Outcome()
    for kind in Self.everyDriver {
      let roots: [String]
      do {
        roots = try await Drivers.with(kind) { try await FixtureDestroyer(driver: $0, executable: nil).roots(ofFixture: name) }
      } catch let e as DriverError where Self.passedOver(e, kind: kind, asking: Self.everyDriver.count) {
        if kind != .swarm { out.notes.append("\(e) (its containers were not looked for)") }
        continue
      }
      for root in roots {
        let one = try await destroy(root: root, fixture: name, kinds: [kind])
        out.destroyed += one.destroyed
        out.notes += one.notes
      }
    }
    return out
  }

  /// When several drivers are asked, an engine that does not answer is
  /// passed over (said as a note), and so is the swarm driver where the
  /// engine is no swarm manager (silently: the docker driver asks the same
  /// engine next). Asked alone, a driver's failure is the command's.
  static func passedOver(_ e: DriverError, kind: DriverKind, asking count: Int) -> Bool {
    guard count > 1 else { return false }
    return e.code.isTransport || (kind == .swarm && e.code == .unsupported)
  }
}

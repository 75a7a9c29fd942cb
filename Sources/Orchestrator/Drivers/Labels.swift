/// Labels cthulhu puts on everything it makes.
public enum Labels {
  public static let fixture = "io.cthulhu.fixture"
  public static let root = "io.cthulhu.root"
  public static let instance = "io.cthulhu.instance"
  public static let group = "io.cthulhu.group"
  public static let specHash = "io.cthulhu.spec-hash"
  public static let filesHash = "io.cthulhu.files-hash"
  /// The swarm node an instance is placed on (its hostname); part of the
  /// spec, so the plan shows placement and a kept instance keeps its node.
  public static let node = "io.cthulhu.node"
}

/// Engine-wide names of what cthulhu makes: what the resolver asks for and
/// the drivers look for, kept beside the drivers that depend on them.
public enum Naming {
  public static func container(_ fixture: String, _ instance: String) -> String { "\(fixture)-\(instance)" }
  public static func network(_ fixture: String) -> String { "cthulhu-\(fixture)" }
}

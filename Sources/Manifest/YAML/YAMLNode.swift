/// A YAML node with the 1-based line and column where it starts.
///
/// Scalars keep their text exactly as written; `plain` tells an unquoted,
/// untagged scalar (which may be read as a number) from a quoted, block or
/// `!!str`-tagged one (always a string).
public struct YAMLNode: Sendable, Hashable {
  public indirect enum Kind: Sendable, Hashable {
    /// `plain` is false for quoted and block scalars: they are always strings.
    case scalar(String, plain: Bool)
    case sequence([YAMLNode])
    /// Pairs in file order; keys are unique (the loader refuses duplicates).
    case mapping([Pair])
  }

  public struct Pair: Sendable, Hashable {
    public var key: YAMLNode
    public var value: YAMLNode
  }

  public var kind: Kind
  public var location: SourceLocation
  /// The explicit tag written on the node (`!!str`, `!custom`), resolved to
  /// its full form by libyaml (`tag:yaml.org,2002:str`); nil when untagged.
  public var tag: String? = nil
  /// Nodes in this subtree, itself included (bounds alias expansion).
  public var size: Int

  public init(kind: Kind, location: SourceLocation, size: Int, tag: String? = nil) {
    self.kind = kind
    self.location = location
    self.size = size
    self.tag = tag
  }

  public var scalar: String? {
    if case .scalar(let s, _) = kind { return s }
    return nil
  }

  public var isNull: Bool {
    if case .scalar(let s, let plain) = kind { return plain && (s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL") }
    return false
  }

  /// What a person would call this kind of node, for error messages.
  public var kindName: String {
    switch kind {
    case .scalar: return isNull ? "null" : "a scalar"
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    }
  }
}

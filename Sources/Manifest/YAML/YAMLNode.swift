/// A YAML node with the 1-based line and column where it starts.
///
/// Scalars keep their text exactly as written; `plain` tells an unquoted,
/// untagged scalar (which may be read as a number) from a quoted, block or
/// `!!str`-tagged one (always a string).
public struct YAMLNode: Sendable, Hashable {
  /// Scalar, list or mapping.
  public indirect enum Kind: Sendable, Hashable {
    /// `plain` is false for quoted and block scalars: they are always strings.
    case scalar(String, plain: Bool)
    case sequence([YAMLNode])
    /// Pairs in file order; keys are unique (the loader refuses duplicates).
    case mapping([Pair])
  }

  /// One `key: value` of a mapping.
  public struct Pair: Sendable, Hashable {
    public var key: YAMLNode
    public var value: YAMLNode
  }

  /// What the node holds.
  public var kind: Kind
  /// Where the node starts (for an alias: where the alias is written).
  public var location: SourceLocation
  /// The explicit tag written on the node (`!!str`, `!custom`), resolved to
  /// its full form by libyaml (`tag:yaml.org,2002:str`); nil when untagged.
  public var tag: String? = nil
  /// Nodes in this subtree, itself included (bounds alias expansion).
  public var size: Int

  /// A node; `size` counts the nodes of the subtree, itself included.
  public init(kind: Kind, location: SourceLocation, size: Int, tag: String? = nil) {
    self.kind = kind
    self.location = location
    self.size = size
    self.tag = tag
  }

  /// The text of a scalar; nil for lists and mappings.
  public var scalar: String? {
    if case .scalar(let s, _) = kind { return s }
    return nil
  }

  /// A plain `~`, `null` or empty scalar.
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

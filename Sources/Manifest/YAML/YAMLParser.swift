import CYaml
import Foundation

/// Reads one YAML document with libyaml's event API into a ``YAMLNode`` tree.
///
/// Anchors and aliases are resolved; expansion is bounded so an alias bomb is
/// refused instead of hanging. Duplicate mapping keys, multiple documents,
/// nesting deeper than ``maxDepth`` and invalid UTF-8 are errors.
public final class YAMLParser {
  /// Most nodes a document may expand to through aliases.
  public static let maxExpandedNodes = 100_000
  /// Deepest nesting of lists and mappings.
  public static let maxDepth = 128

  private var parser = yaml_parser_t()
  private let file: String
  private let bytes: [UInt8]
  private var anchors: [String: YAMLNode] = [:]
  private var expanded = 0

  /// A parser over `text`; `file` names it in diagnostics.
  public init(text: [UInt8], file: String) {
    self.file = file
    self.bytes = text
    yaml_parser_initialize(&parser)
    bytes.withUnsafeBufferPointer { buf in
      // libyaml keeps the pointer: `bytes` is a stored constant that outlives the parser.
      yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
    }
  }

  deinit { yaml_parser_delete(&parser) }

  /// The document's root node; nil for an empty stream.
  public func parse() throws(Diagnostic) -> YAMLNode? {
    var root: YAMLNode?
    var documents = 0
    while true {
      var event = try next()
      defer { yaml_event_delete(&event) }
      switch event.type {
      case YAML_STREAM_END_EVENT:
        return root
      case YAML_DOCUMENT_START_EVENT:
        documents += 1
        if documents > 1 {
          throw Diagnostic(at: mark(event.start_mark), "a manifest is one YAML document; remove the second '---'")
        }
      case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
        continue
      default:
        root = try node(from: &event, depth: 0)
      }
    }
  }

  private func next() throws(Diagnostic) -> yaml_event_t {
    var event = yaml_event_t()
    guard yaml_parser_parse(&parser, &event) == 1 else {
      let problem = parser.problem.map { String(cString: $0) } ?? "unreadable YAML"
      let context = parser.context.map { String(cString: $0) + ": " } ?? ""
      if parser.error == YAML_READER_ERROR {
        // Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark.
        let offset = Int(parser.problem_offset)
        let at = location(ofByte: offset)
        let what = isValidUTF8(at: offset) ? "the manifest is not readable text" : "the manifest is not valid UTF-8"
        throw Diagnostic(at: at, "\(what): \(problem)")
      }
      throw Diagnostic(at: mark(parser.problem_mark), "YAML syntax error: \(context)\(problem)")
    }
    return event
  }

  /// Whether the bytes at `offset` start a well-formed UTF-8 sequence (the
  /// reader stops at the first problem: bad UTF-8 there, or a character
  /// YAML does not allow).
  private func isValidUTF8(at offset: Int) -> Bool {
    guard offset < bytes.count else { return true }
    var it = bytes[offset...].makeIterator()
    var decoder = UTF8()
    if case .error = decoder.decode(&it) { return false }
    return true
  }

  /// Line and column (in characters, 1-based) of a byte offset into the input.
  private func location(ofByte offset: Int) -> SourceLocation {
    var line = 1
    var column = 1
    for b in bytes.prefix(min(offset, bytes.count)) {
      if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
    }
    return SourceLocation(file: file, line: line, column: column)
  }

  private func mark(_ m: yaml_mark_t) -> SourceLocation {
    SourceLocation(file: file, line: Int(m.line) + 1, column: Int(m.column) + 1)
  }

  private func string(_ p: UnsafeMutablePointer<yaml_char_t>?, _ length: Int? = nil) -> String? {
    guard let p else { return nil }
    if let length {
      return String(decoding: UnsafeBufferPointer(start: p, count: length), as: UTF8.self)
    }
    return String(cString: p)
  }

  /// Builds the node that `event` starts, consuming the events of its children.
  private func node(from event: inout yaml_event_t, depth: Int) throws(Diagnostic) -> YAMLNode {
    let at = mark(event.start_mark)
    if depth > Self.maxDepth {
      throw Diagnostic(at: at, "nesting deeper than \(Self.maxDepth) levels")
    }
    switch event.type {
    case YAML_ALIAS_EVENT:
      let name = string(event.data.alias.anchor) ?? ""
      guard var target = anchors[name] else { throw Diagnostic(at: at, "unknown alias '*\(name)'") }
      expanded += target.size
      if expanded > Self.maxExpandedNodes {
        throw Diagnostic(at: at, "aliases expand to more than \(Self.maxExpandedNodes) nodes (an alias bomb?); write the document out")
      }
      target.location = at
      return target
    case YAML_SCALAR_EVENT:
      let s = event.data.scalar
      let text = string(s.value, Int(s.length)) ?? ""
      let tag = string(s.tag)
      let plain = s.style == YAML_PLAIN_SCALAR_STYLE && tag != "tag:yaml.org,2002:str" && tag != "!"
      let n = YAMLNode(kind: .scalar(text, plain: plain), location: at, size: 1, tag: tag)
      if let a = string(s.anchor) { anchors[a] = n }
      return n
    case YAML_SEQUENCE_START_EVENT:
      let anchor = string(event.data.sequence_start.anchor)
      var items: [YAMLNode] = []
      var size = 1
      while true {
        var child = try next()
        defer { yaml_event_delete(&child) }
        if child.type == YAML_SEQUENCE_END_EVENT { break }
        let c = try node(from: &child, depth: depth + 1)
        size += c.size
        items.append(c)
      }
      let n = YAMLNode(kind: .sequence(items), location: at, size: size, tag: string(event.data.sequence_start.tag))
      if let anchor { anchors[anchor] = n }
      return n
    case YAML_MAPPING_START_EVENT:
      let anchor = string(event.data.mapping_start.anchor)
      var pairs: [YAMLNode.Pair] = []
      var seen: [String: SourceLocation] = [:]
      var size = 1
      while true {
        var k = try next()
        defer { yaml_event_delete(&k) }
        if k.type == YAML_MAPPING_END_EVENT { break }
        let key = try node(from: &k, depth: depth + 1)
        var v = try next()
        defer { yaml_event_delete(&v) }
        let value = try node(from: &v, depth: depth + 1)
        if let ks = key.scalar {
          if let first = seen[ks] {
            throw Diagnostic(at: key.location, "duplicate key '\(ks)' (first at line \(first.line))")
          }
          seen[ks] = key.location
        }
        size += key.size + value.size
        pairs.append(.init(key: key, value: value))
      }
      let n = YAMLNode(kind: .mapping(pairs), location: at, size: size, tag: string(event.data.mapping_start.tag))
      if let anchor { anchors[anchor] = n }
      return n
    default:
      throw Diagnostic(at: at, "unexpected YAML event")
    }
  }
}

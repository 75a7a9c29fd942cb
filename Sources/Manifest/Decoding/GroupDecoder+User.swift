/// `user:` of a group, read like compose's `user`: `NAME`, `UID`,
/// `NAME:GROUP` or `UID:GID`, each part a name or a number. Whether a name
/// exists is not checked here: that depends on the machine (process driver)
/// or the image (Docker), and is checked where the user is resolved.
extension GroupDecoder {
  /// Largest uid or gid: 32 bits, and `(uid_t)-1` means "unchanged" to chown.
  static let maxID: UInt32 = 4_294_967_294

  func user(_ node: YAMLNode) -> UserSpec? {
    let what = "'user' of \(self.what)"
    let forms = "a user name, a uid, or name:group / uid:gid such as alice or 1000:1000"
    guard case .scalar(let text, _) = node.kind, !node.isNull else {
      reader.error(node.location, "\(what) must be \(forms), not \(node.kindName)")
      return nil
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count), !parts.contains(where: \.isEmpty) else {
      reader.error(node.location, "\(what) must be \(forms), not '\(text)'")
      return nil
    }
    var ids: [UserSpec.ID] = []
    for (i, part) in parts.enumerated() {
      let kind = i == 0 ? "user" : "group"
      if part.allSatisfy({ $0.isASCII && $0.isNumber }) {
        guard let n = UInt32(part), n <= Self.maxID else {
          reader.error(node.location, "\(kind == "user" ? "uid" : "gid") \(part) in \(what) is too large (at most \(Self.maxID))")
          return nil
        }
        ids.append(.number(n))
      } else if Self.isAccountName(part) {
        ids.append(.name(String(part)))
      } else {
        reader.error(
          node.location,
          "'\(part)' in \(what) is not a \(kind) name or number (a name is letters, digits, '_', '.', '-', starting with a letter or '_', at most 32 characters)"
        )
        return nil
      }
    }
    return UserSpec(user: ids[0], group: ids.count == 2 ? ids[1] : nil, location: node.location)
  }

  /// A name useradd and groupadd accept (with --badname: upper case and
  /// dots too): `[A-Za-z_][A-Za-z0-9_.-]*` with an optional trailing `$`
  /// (Samba machine accounts), at most 32 characters.
  static func isAccountName(_ s: Substring) -> Bool {
    let body = s.hasSuffix("$") ? s.dropLast() : s
    guard let first = body.unicodeScalars.first, s.count <= 32 else { return false }
    let letter = { (c: Unicode.Scalar) in ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" }
    return letter(first) && body.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" }
  }
}

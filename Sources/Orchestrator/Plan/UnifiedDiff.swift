/// A unified diff of two texts, line by line, as `diff -u` prints it (three
/// lines of context), from the standard library's `difference(from:)`.
enum UnifiedDiff {
  static func make(old: String, new: String, oldName: String, newName: String, context: Int = 3) -> String {
    let a = lines(old)
    let b = lines(new)
    // Walk both sides in step: an edit script of kept, removed and added lines.
    enum Edit { case keep(String), remove(String), add(String) }
    let changes = b.difference(from: a)
    var removed = Set<Int>()
    var inserted = Set<Int>()
    for c in changes {
      switch c {
      case .remove(let offset, _, _): removed.insert(offset)
      case .insert(let offset, _, _): inserted.insert(offset)
      }
    }
    var script: [(edit: Edit, oldLine: Int, newLine: Int)] = []
    var i = 0
    var j = 0
    while i < a.count || j < b.count {
      if i < a.count, removed.contains(i) {
        script.append((.remove(a[i]), i, j)); i += 1
      } else if j < b.count, inserted.contains(j) {
        script.append((.add(b[j]), i, j)); j += 1
      } else {
        script.append((.keep(a[i]), i, j)); i += 1; j += 1
      }
    }
    let changed = script.indices.filter {
      if case .keep = script[$0].edit { return false }; return true
    }
    guard !changed.isEmpty else { return "" }
    // Hunks: changed lines with `context` lines around them, merged when close.
    var hunks: [ClosedRange<Int>] = []
    for k in changed {
      let r = max(0, k - context)...min(script.count - 1, k + context)
      if let last = hunks.last, r.lowerBound <= last.upperBound + 1 {
        hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
      } else {
        hunks.append(r)
      }
    }
    var out = "--- \(oldName)\n+++ \(newName)\n"
    for h in hunks {
      let slice = script[h]
      let oldCount = slice.filter {
        if case .add = $0.edit { return false }; return true
      }.count
      let newCount = slice.filter {
        if case .remove = $0.edit { return false }; return true
      }.count
      let oldStart = oldCount == 0 ? slice.first!.oldLine : slice.first!.oldLine + 1
      let newStart = newCount == 0 ? slice.first!.newLine : slice.first!.newLine + 1
      out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n"
      for s in slice {
        switch s.edit {
        case .keep(let l): out += " " + l + "\n"
        case .remove(let l): out += "-" + l + "\n"
        case .add(let l): out += "+" + l + "\n"
        }
      }
    }
    return out
  }

  static func lines(_ s: String) -> [String] {
    var l = s.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if l.last == "" { l.removeLast() }
    return l
  }
}

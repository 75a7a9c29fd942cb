# Sourced by the bench scripts: write_section NAME FILE puts FILE's text
# into docs/benchmarks.md between `<!-- bench/NAME: begin -->` and
# `<!-- bench/NAME: end -->`, replacing what was there, or at the end of the
# document when it has no such section yet.
write_section() {
  python3 - "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/docs/benchmarks.md" "$2" "<!-- bench/$1: begin -->" "<!-- bench/$1: end -->" <<'PY'
import sys
doc, section, begin, end = sys.argv[1:5]
text = open(doc).read()
block = begin + "\n\n" + open(section).read().strip() + "\n\n" + end
if begin in text and end in text:
    a, b = text.index(begin), text.index(end) + len(end)
    text = text[:a] + block + text[b:]
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
}

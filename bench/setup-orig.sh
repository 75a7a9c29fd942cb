#!/usr/bin/env bash
# Prepares the original Python cthulhu (github.com/sholsapp/cthulhu) for
# bench/run, outside this repository (its code is never committed here):
#
#   bench/setup-orig.sh DIR     clone into DIR (from SOURCE, default the GitHub
#                               URL; a local mirror works too) and make DIR-venv
#   ORIG_CTHULHU=DIR bench/run
#
# Its requirements.txt pins pex==2.1.34, which needs Python < 3.9 and only
# packages the tool into a .pex; the rest of the pins are installed as they are.
set -euo pipefail
dir=${1:?usage: bench/setup-orig.sh DIR}
source=${SOURCE:-https://github.com/sholsapp/cthulhu.git}
case $dir in "$(cd "$(dirname "$0")/.." && pwd)"/*) echo "setup-orig.sh: DIR must be outside this repository" >&2; exit 2 ;; esac
[ -d "$dir/.git" ] || git clone -q "$source" "$dir"
python3 -m venv "$dir-venv"
grep -v '^pex==' "$dir/requirements.txt" >"$dir-venv/requirements.txt"
"$dir-venv/bin/pip" install -q -r "$dir-venv/requirements.txt"
"$dir-venv/bin/pip" install -q --no-deps -e "$dir"
"$dir-venv/bin/cthulhu" --help >/dev/null
echo "ready: ORIG_CTHULHU=$dir bench/run"

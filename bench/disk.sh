#!/usr/bin/env bash
# The disk layer's overhead (issue #24): the same workloads in a plain folder
# and through `cthulhu _disk` (the FUSE layer over a backing folder on the
# same file system), in one run, plain then layer in every round.
#
#   bench/disk.sh [--rounds R] [--dir DIR] [--no-build]
#
# Workloads (Sources/cthulhu-bench/DiskWorkload.swift): 32 MiB written
# 64 KiB at a time then one fsync; 4 MiB written 4 KiB at a time with an
# fsync after each write; 1,000 files of 4 KiB created, their folder
# fsynced, read back and removed. Round 0 is a warm-up; the medians of R
# rounds (default 5) and the ratio layer / plain are printed as the table
# docs/benchmarks.md holds ("Disk layer"), and kept with the raw lines in
# bench/out/disk-<stamp>/. --dir: where the plain folder, the backing folder
# and the mount point go (default: a new folder in /tmp); needs root and
# /dev/fuse. The mount is always taken down on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
rounds=5 parent=/tmp build=1
while [ $# -gt 0 ]; do
  case $1 in
  --rounds) rounds=$2; shift ;;
  --dir) parent=$2; shift ;;
  --no-build) build=0 ;;
  *) echo "usage: bench/disk.sh [--rounds R] [--dir DIR] [--no-build]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench/disk.sh: the layer mounts a file system: run as root" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "bench/disk.sh: no /dev/fuse" >&2; exit 1; }

if [ "$build" = 1 ]; then
  (cd "$repo" && swift build -c release --product cthulhu && swift build -c release --product cthulhu-bench) >&2
fi
bin=$(cd "$repo" && swift build -c release --show-bin-path)

work=$(mktemp -d "$parent/cthulhu-disk-bench.XXXXXX")
mkdir -p "$work/plain" "$work/backing" "$work/mount" "$work/state"
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill "$daemon"
    for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
  fi
  if grep -q " $work/mount " /proc/self/mountinfo; then umount -l "$work/mount"; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/cthulhu" _disk --mount "$work/mount" --backing "$work/backing" --state "$work/state" 2>"$work/layer.log" &
daemon=$!
for _ in $(seq 100); do [ -s "$work/state/ready" ] && break; sleep 0.1; done
[ -s "$work/state/ready" ] || { cat "$work/layer.log" >&2; echo "bench/disk.sh: the layer did not mount" >&2; exit 1; }

out="$repo/bench/out/disk-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
"$bin/cthulhu-bench" disk --plain "$work/plain" --layer "$work/mount" --rounds "$rounds" >"$out/raw.txt"
python3 - "$out/raw.txt" >"$out/table.md" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    scenario, target, rnd, seconds = line.split()
    if int(rnd) > 0:
        rows.setdefault(scenario, {}).setdefault(target, []).append(float(seconds))
print("| workload | plain folder (median s) | through the layer (median s) | layer / plain |")
print("|---|---:|---:|---:|")
for scenario, t in rows.items():
    p, l = statistics.median(t["plain"]), statistics.median(t["layer"])
    print(f"| {scenario} | {p:.4f} | {l:.4f} | {l / p:.2f}× |")
PY
cat "$out/table.md"
echo "(raw lines: $out/raw.txt)"

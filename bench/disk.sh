#!/usr/bin/env bash
# The disk layer's overhead (issue #24): the same workloads in a plain folder
# and through `cthulhu _disk` (the FUSE layer over a backing folder on the
# same file system), in one run, plain then layer in every round.
#
#   bench/disk.sh [--rounds R] [--dir DIR] [--no-build] [--debug]
#
# Workloads (Sources/cthulhu-bench/DiskWorkload.swift): 32 MiB written
# 64 KiB at a time then one fsync; 4 MiB written 4 KiB at a time with an
# fsync after each write; 1,000 files of 4 KiB created, their folder
# fsynced, read back and removed. Round 0 is a warm-up; the medians of R
# rounds (default 5), the fastest and slowest, and the ratio layer / plain
# are written to the "Disk layer: overhead" section of docs/benchmarks.md
# (between its bench/disk.sh markers), and kept with the raw lines in
# bench/out/disk-<stamp>/. --dir: where the plain folder, the backing folder
# and the mount point go (default: a new folder in /tmp); needs root and
# /dev/fuse. The mount is always taken down on exit. --debug: the debug
# build (a slower layer; for a quick look, not for the figures).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
rounds=5 parent=/tmp build=1 config=release
while [ $# -gt 0 ]; do
  case $1 in
  --rounds) rounds=$2; shift ;;
  --dir) parent=$2; shift ;;
  --no-build) build=0 ;;
  --debug) config=debug ;;
  *) echo "usage: bench/disk.sh [--rounds R] [--dir DIR] [--no-build] [--debug]" >&2; exit 2 ;;
  esac
  shift
done
[ "$(id -u)" = 0 ] || { echo "bench/disk.sh: the layer mounts a file system: run as root" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "bench/disk.sh: no /dev/fuse" >&2; exit 1; }

if [ "$build" = 1 ]; then
  (cd "$repo" && swift build -c "$config" --product cthulhu && swift build -c "$config" --product cthulhu-bench) >&2
fi
bin=$(cd "$repo" && swift build -c "$config" --show-bin-path)

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
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$out"
"$bin/cthulhu-bench" disk --plain "$work/plain" --layer "$work/mount" --rounds "$rounds" >"$out/raw.txt"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(cd "$repo" && git rev-parse --short HEAD)
python3 - "$out/raw.txt" "$rounds" "$commit" "$config" "$load_start" "$load_end" "$(nproc)" "$(uname -r)" >"$out/section.md" <<'PY'
import statistics, sys
raw, rounds, commit, config, load_start, load_end, cores, kernel = sys.argv[1:]
rows = {}
for line in open(raw):
    scenario, target, rnd, seconds = line.split()
    if int(rnd) > 0:
        rows.setdefault(scenario, {}).setdefault(target, []).append(float(seconds))
print("## Disk layer: overhead (issue #24)")
print()
print(f"`bench/disk.sh --rounds {rounds}` (cthulhu {commit}, {config} build; {cores} cores, kernel {kernel}; load average")
print(f"{load_start} at start, {load_end} at end: the cores are shared with other builds). The same workloads in a")
print("plain folder and through the layer (`cthulhu _disk`, its backing folder on the same ext4), plain then layer")
print(f"in every round, 1 warm-up round + {rounds}; medians, and the fastest and slowest round. Goal: the layer at most")
print("2× the plain folder.")
print()
print("| workload | plain folder | through the layer | layer / plain | plain, min–max | layer, min–max |")
print("|---|---:|---:|---:|---:|---:|")
for scenario, t in rows.items():
    p, l = statistics.median(t["plain"]), statistics.median(t["layer"])
    print(f"| {scenario} | {p:.4f} s | {l:.4f} s | {l / p:.2f}× | {min(t['plain']):.4f}–{max(t['plain']):.4f} | {min(t['layer']):.4f}–{max(t['layer']):.4f} |")
print()
print("seq-write: one file written 64 KiB at a time, one fsync at the end; seq-write-fsync: 4 KiB writes, an")
print("fsync after each (1,024 fsyncs, which the layer passes to the backing file: the disk's fsync bounds both);")
print("small-files: 1,000 files of 4 KiB created, their folder fsynced, read back, removed. Through FUSE every")
print("call is a round trip to the daemon's one thread, and the kernel caches no name or attribute (lose-unsynced")
print("changes the backing folder behind it), so the many small calls of small-files cost the most.")
PY

. "$repo/bench/section.sh"
write_section disk.sh "$out/section.md"
cat "$out/section.md"
echo "bench/disk.sh: wrote the Disk layer section of docs/benchmarks.md (raw: $out/raw.txt)" >&2

#!/usr/bin/env bash
# Measures `cthulhu test`'s runner (release build) with a client that
# answers at once, beside `cthulhu op`'s cost per call, and writes the
# "Correctness runs: the runner" section of docs/benchmarks.md.
#
#   bench/runner.sh [--no-build] [--debug] [--time-limit 10s] [--workers 50]
#
# --debug measures the debug build instead (said so in the section);
# --binary PATH a cthulhu built elsewhere (e.g. with --scratch-path), no build.
# The fixture is one busybox process (driver: process, loopback: no root,
# no engine); the client is a shell loop that answers {"type": "ok"} to
# every request line. Figures: operations recorded per second with
# --workers workers and with 1 (its inverse is the round trip through the
# runner, the pipes and the shell), and the wall time of 200 `cthulhu op`
# calls around `true`. Raw output: bench/out/runner-<stamp>/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=1 limit=10s workers=50 config=release bin=
while [ $# -gt 0 ]; do
  case $1 in
  --no-build) build=0 ;;
  --debug) config=debug ;;
  --binary) bin=$2; build=0; shift ;;
  --time-limit) limit=$2; shift ;;
  --workers) workers=$2; shift ;;
  -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench/runner.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x /bin/busybox ] || { echo "bench/runner.sh: /bin/busybox is missing (apt install busybox-static)" >&2; exit 1; }
if [ "$build" = 1 ]; then (cd "$repo" && swift build -c "$config" --product cthulhu >/dev/null); fi
bin=${bin:-$repo/.build/$config/cthulhu}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=$repo/bench/out/runner-$stamp
mkdir -p "$out"
work=$(mktemp -d /tmp/cthulhu-bench-runner.XXXXXX)
fixture=bench-runner-$$
cleanup() { (cd "$work" && "$bin" destroy >/dev/null 2>&1 || true); rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/noop.sh" <<'SH'
#!/bin/sh
while read -r line; do echo '{"type": "ok"}'; done
SH
chmod +x "$work/noop.sh"
manifest() {
  cat >"$work/cthulhu.yaml" <<YAML
fixture: $fixture
driver: process
groups:
  node:
    command: ["/bin/busybox", "sleep", "3600"]
workloads:
  noop:
    client: { command: ["./noop.sh"] }
    generator: set
    concurrency: $1
    time_limit: $limit
    final_wait: 0s
YAML
}

# ops/s of a run: operations recorded over the time limit.
rate() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ops = sum(c["ok"] + c["fail"] + c["info"] for c in r["counts"].values())
import datetime
print(ops, r["latency"].get("add", {}).get("p50", 0), r["latency"].get("add", {}).get("p99", 0))
PY
}
secs=$(python3 -c "import sys; s='$limit'; print(float(s[:-2])/1000 if s.endswith('ms') else float(s[:-1]) * (60 if s.endswith('m') else 1))")

manifest "$workers"
(cd "$work" && "$bin" apply >/dev/null)
(cd "$work" && "$bin" test >"$out/many.txt" 2>&1 || true)
read -r many_ops many_p50 many_p99 < <(rate "$work/cthulhu-fixture/runs/latest/results.json")
manifest 1
(cd "$work" && "$bin" test >"$out/one.txt" 2>&1 || true)
read -r one_ops one_p50 one_p99 < <(rate "$work/cthulhu-fixture/runs/latest/results.json")

start=$(date +%s.%N)
for i in $(seq 200); do "$bin" op --history "$work/op.jsonl" --process 0 --f write --value "$i" -- true >/dev/null; done
end=$(date +%s.%N)

load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$many_ops" "$one_ops" "$secs" "$start" "$end" "$workers" "$many_p50" "$many_p99" "$one_p50" "$limit" "$config" "$load" "$(git -C "$repo" rev-parse --short HEAD)" >"$out/section.md" <<'PY'
import sys
many, one, secs, start, end, workers = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
many_p50, many_p99, one_p50, limit, config, load, commit = sys.argv[7:14]
op_ms = (end - start) / 200 * 1000
many_rate, one_rate = many / secs, one / secs
print("## Correctness runs: the runner (issue 23)\n")
print(f"`bench/runner.sh` (cthulhu {commit}, {config} build; load average {load} at the end, the 2 cores")
print(f"shared with other builds): `cthulhu test` on a process-driver fixture (loopback), a shell client")
print(f"that answers `{{\"type\": \"ok\"}}` at once, generator `set`, no rate limit, {limit}.\n")
print("| | operations | per second | latency p50 | |")
print("|---|---:|---:|---:|---|")
print(f"| `cthulhu test`, {workers} workers | {many} | {many_rate:,.0f} | {many_p50} ms | p99 {many_p99} ms |")
print(f"| `cthulhu test`, 1 worker | {one} | {one_rate:,.0f} | {one_p50} ms | round trip: runner, pipes, shell |")
print(f"| `cthulhu op … -- true`, one call after another | 200 | {1000 / op_ms:,.1f} | {op_ms:.1f} ms | a process of cthulhu and one of `true` per call |\n")
print(f"With {workers} workers the runner records {many_rate / (1000 / op_ms):,.0f}× what `cthulhu op` allows one")
print("caller; the target is at least 5,000 operations per second on this 2-core machine. One worker")
print("goes faster than many here: every operation wakes a worker thread and its client process, and")
print("with 50 of each on 2 cores the switches between them, not the runner's work, bound the rate.")
PY
cp "$work/cthulhu-fixture/runs/latest/results.json" "$out/one-results.json"

. "$repo/bench/section.sh"
write_section runner.sh "$out/section.md"
echo "bench/runner.sh: wrote the runner section of docs/benchmarks.md (raw: $out)" >&2

#!/usr/bin/env bash
# Times `cthulhu check --model set-full` (release build) on a generated
# history of N adds (default 1,000,000) by 10 processes, with a read of the
# whole set after every N/10 adds and a final one, two adds of unknown
# outcome and one acknowledged add the final reads miss (so the verdict is
# invalid, with one lost element, and the check does all its work).
#
#   bench/setfull.sh [--adds N] [--rounds R] [--no-build]
#
# Prints, per round, the wall time and peak RSS of the whole run (reading
# the JSON Lines file and checking) from /usr/bin/time. The history is
# written to bench/out/setfull-<N>.jsonl (kept, ignored by git).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
adds=1000000 rounds=3 build=1
while [ $# -gt 0 ]; do
  case $1 in
  --adds) adds=$2; shift ;;
  --rounds) rounds=$2; shift ;;
  --no-build) build=0 ;;
  -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench/setfull.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x /usr/bin/time ] || { echo "bench/setfull.sh: /usr/bin/time is missing (apt install time)" >&2; exit 1; }
if [ "$build" = 1 ]; then (cd "$repo" && swift build -c release --product cthulhu >/dev/null); fi
cthulhu=$repo/.build/release/cthulhu
mkdir -p "$repo/bench/out"
history=$repo/bench/out/setfull-$adds.jsonl
if [ ! -s "$history" ]; then
  awk -v n="$adds" 'BEGIN {
    t = 0; lost = int(n / 2); every = int(n / 10); if (every < 1) every = 1
    for (i = 0; i < n; i++) {
      p = i % 10
      printf "{\"process\": %d, \"type\": \"invoke\", \"f\": \"add\", \"value\": %d, \"time\": %d}\n", p, i, t++
      type = (i == 7 || i == n - 3) ? "info" : "ok"
      printf "{\"process\": %d, \"type\": \"%s\", \"f\": \"add\", \"value\": %d, \"time\": %d}\n", p, type, i, t++
      if (type == "info") continue
      if ((i + 1) % every == 0 || i == n - 1) {
        printf "{\"process\": 10, \"type\": \"invoke\", \"f\": \"read\", \"value\": null, \"time\": %d}\n", t++
        printf "{\"process\": 10, \"type\": \"ok\", \"f\": \"read\", \"value\": ["
        sep = ""
        for (j = 0; j <= i; j++) if (j != n - 3 && !(j == lost && i > lost + every)) { printf "%s%d", sep, j; sep = "," }
        printf "], \"time\": %d}\n", t++
      }
    }
  }' >"$history"
fi
events=$(wc -l <"$history")
echo "history: $history ($events events, $(du -h "$history" | cut -f1))"
for r in $(seq 1 "$rounds"); do
  status=0
  /usr/bin/time -f '%e %M' -o "$repo/bench/out/setfull.time" "$cthulhu" check --model set-full --json "$history" >"$repo/bench/out/setfull.json" || status=$?
  read -r seconds rss < <(tail -n 1 "$repo/bench/out/setfull.time")
  echo "round $r: exit $status, ${seconds}s, peak RSS $((rss / 1024)) MiB; $(cut -c1-160 "$repo/bench/out/setfull.json")"
done
# The verdict line splits off the time spent reading the file.
"$cthulhu" check --model set-full "$history" | head -n 1 || true

#!/usr/bin/env bash
# The reset bench (docs/benchmarks.md, "reset"): how long `cthulhu reset`
# takes to bring N instances (default 5) back after a partition, a kill and
# a pause, and after a partition and a pause, side by side with what it
# saves: a `destroy` and an `apply` of the same fixture. K rounds (default
# 7), alternating; prints the medians and the ratios (issue 17's target:
# reset ≤ 10 % of destroy + apply), for containers (the docker driver,
# cthulhu-test:latest) and host processes in network namespaces (root). On
# Docker it also times the engine's own start of a killed container (`docker
# start`, asked directly): the floor under any reset after a kill. Each
# "done" is the command's own exit: an apply that has started every
# instance (no health checks), a reset that has healed, started and thawed
# them all and seen each started one still running 250 ms later.
#
#   bench/reset.sh [N] [K]                 CTHULHU (default .build/debug/cthulhu)
#   bench/reset.sh --write [N] [K]         also writes the table into docs/benchmarks.md
set -euo pipefail
cd "$(dirname "$0")/.."
write=0
if [ "${1:-}" = --write ]; then write=1; shift; fi
N=${1:-5} K=${2:-7}
CTHULHU=${CTHULHU:-$PWD/.build/debug/cthulhu}
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
work=$(mktemp -d /tmp/cthulhu-reset-bench.XXXXXX)
# (A run cut short destroys what it made before its folder goes.)
trap 'for d in "$work"/*/; do (cd "$d" && "$CTHULHU" destroy >/dev/null 2>&1); done; rm -rf "$work"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

manifest() { # manifest KIND: the fixture of N web servers
  case $1 in
    docker) cat <<YAML
fixture: rbench-docker
groups:
  node:
    image: cthulhu-test:latest
    count: $N
    command: ["/bin/sh", "-c", "exec httpd -f -p 8080 -h /opt/app/etc"]
    templates:
      - { source: templates/config.json, target: etc/config.json }
    stop_timeout: 1s
YAML
      ;;
    namespaces) cat <<YAML
fixture: rbench-ns
driver: process
network: { mode: namespaces }
groups:
  node:
    count: $N
    command: ["/bin/busybox", "sh", "-c", "exec /bin/busybox httpd -f -p \"\$CTHULHU_IP:8080\" -h \"\$CTHULHU_MOUNT_ETC\""]
    templates:
      - { source: templates/config.json, target: etc/config.json }
    stop_timeout: 1s
YAML
      ;;
  esac
}

rows=()
for kind in docker namespaces; do
  dir="$work/$kind"
  mkdir -p "$dir/templates"
  echo '{"self": "{{ instance.ip }}"}' >"$dir/templates/config.json"
  manifest "$kind" >"$dir/cthulhu.yaml"
  cd "$dir"
  "$CTHULHU" apply --progress none >/dev/null
  resets=() lights=() cycles=() floors=()
  for _ in $(seq "$K"); do
    "$CTHULHU" partition i001 i002,i003 >/dev/null
    "$CTHULHU" kill i002 >/dev/null
    "$CTHULHU" pause i003 >/dev/null
    t0=$(now)
    "$CTHULHU" reset --progress none >/dev/null
    t1=$(now)
    resets+=("$(awk "BEGIN { print $t1 - $t0 }")")
    # Without the kill: nothing to start, so no engine start and no settle.
    "$CTHULHU" partition i001 i002,i003 >/dev/null
    "$CTHULHU" pause i003 >/dev/null
    t0=$(now)
    "$CTHULHU" reset --progress none >/dev/null
    t1=$(now)
    lights+=("$(awk "BEGIN { print $t1 - $t0 }")")
    if [ "$kind" = docker ]; then
      # The floor under a reset after a kill: the engine's own start of the
      # killed container, asked directly (cthulhu then finds it running).
      docker kill rbench-docker-i002 >/dev/null
      t0=$(now)
      docker start rbench-docker-i002 >/dev/null
      t1=$(now)
      floors+=("$(awk "BEGIN { print $t1 - $t0 }")")
    fi
    t0=$(now)
    "$CTHULHU" destroy --progress none >/dev/null
    "$CTHULHU" apply --progress none >/dev/null
    t1=$(now)
    cycles+=("$(awk "BEGIN { print $t1 - $t0 }")")
  done
  "$CTHULHU" destroy --progress none >/dev/null
  cd - >/dev/null
  r=$(printf '%s\n' "${resets[@]}" | median)
  l=$(printf '%s\n' "${lights[@]}" | median)
  c=$(printf '%s\n' "${cycles[@]}" | median)
  pct() { awk "BEGIN { printf \"%.1f\", 100 * $1 / $2 }"; }
  floor="— (no engine)"
  [ ${#floors[@]} -gt 0 ] && floor="$(printf '%.2f' "$(printf '%s\n' "${floors[@]}" | median)") s"
  rows+=("| $kind | $N | $(printf '%.2f' "$r") s ($(pct "$r" "$c") %) | $(printf '%.2f' "$l") s ($(pct "$l" "$c") %) | $(printf '%.2f' "$c") s | $floor |")
done

table=$(
  echo "| driver | instances | reset after partition, kill, pause | reset after partition, pause | destroy + apply | engine start of the killed container |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
)
echo "$table"
if [ "$write" = 1 ]; then
  python3 - "$table" "$N" "$K" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$("$CTHULHU" --version) at $(git rev-parse --short HEAD)" <<'PY'
import re, sys
table, n, k, cores, load, version = sys.argv[1:]
path = "docs/benchmarks.md"
text = open(path).read()
block = (f"<!-- bench/reset.sh: begin -->\n## Reset\n\n`cthulhu reset` against a destroy and an apply of the same fixture, "
         f"after a partition, a kill and a pause, and after a partition and a pause (percentages: of destroy + apply). "
         f"`bench/reset.sh {n} {k}` (cthulhu {version}; medians of {k} rounds, {cores} cores, load {load} at the end):\n\n{table}\n<!-- bench/reset.sh: end -->")
if "<!-- bench/reset.sh: begin -->" in text:
    text = re.sub(r"<!-- bench/reset.sh: begin -->.*?<!-- bench/reset.sh: end -->", lambda m: block, text, flags=re.S)
elif "<!-- bench/check.sh: " in text:
    i = text.index("<!-- bench/check.sh: ")
    text = text[:i] + block + "\n\n" + text[i:]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi

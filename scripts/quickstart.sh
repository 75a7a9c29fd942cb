#!/usr/bin/env bash
# The README's first command: install what is missing, build cthulhu and the
# demo system, apply manifests/quickstart.yaml (five cthulhu-demo nodes as
# host processes; no container engine, no root), and show the fixture and the
# cluster answering. The fixture stays up; the last lines say how to use it
# and how to destroy it.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v dpkg >/dev/null; then
  need=()
  for p in libyaml-dev libnetfilter-queue-dev libssl-dev libfuse3-dev pkg-config curl; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
      echo "quickstart: missing ${need[*]}; run as root: apt-get install -y ${need[*]}" >&2
      exit 1
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

echo "== building cthulhu and cthulhu-demo (debug; the first build takes a few minutes)"
swift build --product cthulhu
swift build --product cthulhu-demo
cthulhu=.build/debug/cthulhu
manifest=manifests/quickstart.yaml
fixture=manifests/cthulhu-fixture

echo "== cthulhu apply $manifest"
"$cthulhu" apply "$manifest"
echo
echo "== cthulhu status $manifest"
"$cthulhu" status "$manifest"
echo
echo "== the fixture folder, $fixture"
ls -l "$fixture"

admin() { curl -fsS -m 1 "http://$(readlink "$fixture/$1"):8080/admin" 2>/dev/null; }
field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }

echo
echo "== the cluster elects a leader"
leader=""
for _ in $(seq 50); do
  for n in i001 i002 i003 i004 i005; do
    [ "$(admin "$n" | field role)" = leader ] && leader=$n
  done
  [ -n "$leader" ] && break
  sleep 0.2
done
if [ -z "$leader" ]; then
  echo "quickstart: no leader after 10 s; the nodes' logs are in $fixture/<ip>/bindmounts/var/" >&2
  exit 1
fi
for n in i001 i002 i003 i004 i005; do printf '%s  %s\n' "$n" "$(admin "$n")"; done

value="hello-$(date +%s)"
echo
echo "== write '$value' to the leader $leader, read it back from every node"
curl -fsS -m 5 --data-binary "$value" "http://$(readlink "$fixture/$leader"):8080/value"
echo
for n in i001 i002 i003 i004 i005; do
  got=""
  for _ in $(seq 25); do
    got=$(curl -fsS -m 1 "http://$(readlink "$fixture/$n"):8080/value" 2>/dev/null || true)
    [ "$got" = "$value" ] && break
    sleep 0.2
  done
  printf '%s  %s\n' "$n" "${got:-(nothing yet)}"
done

echo
echo "The fixture is up. Try:"
printf '  %-56s # %s\n' \
  "$fixture/$leader/control stop" "stop the leader; read /admin again" \
  "$fixture/control start" "start whatever is stopped" \
  "$cthulhu logs $manifest" "every node's log" \
  "$cthulhu destroy $manifest" "remove it all"
echo "Network faults (partition, isolate, loss, rate) need network.mode: namespaces"
echo "in $manifest, and root."

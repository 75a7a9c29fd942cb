#!/usr/bin/env bash
# The swarm bench (docs/benchmarks.md, "swarm"): apply and destroy of N
# instances (default 30) with `driver: swarm` against `docker stack deploy`
# / `docker stack rm` of the equivalent stack (one service, N replicas,
# dnsrr, the same image and command, an attachable overlay with a fixed
# subnet), alternating, K rounds (default 5); prints the medians and the
# ratio. Needs the swarm of `scripts/swarm.sh up 3` (DOCKER_HOST from it)
# and a built cthulhu ($CTHULHU, default .build/debug/cthulhu).
#
#   eval "$(scripts/swarm.sh up 3)"; bench/swarm.sh [N] [K]
#
# "Done" is the same for both: every instance's container running (for the
# stack, counted on every node's engine), and for the removals, no
# container and no network of it left on any node.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30} K=${2:-5}
CTHULHU=${CTHULHU:-$PWD/.build/debug/cthulhu}
export DOCKER_API_VERSION=1.41
[ -n "${DOCKER_HOST:-}" ] || { echo "set DOCKER_HOST to the swarm's manager (eval \"\$(scripts/swarm.sh up 3)\")" >&2; exit 1; }
nodes=$(docker node inspect $(docker node ls -q) --format '{{index .Spec.Labels "io.cthulhu.engine"}}')
work=$(mktemp -d /tmp/cthulhu-swarm-bench.XXXXXX)
# (A run cut short destroys what it made before its folder goes.)
trap '(cd "$work/c" 2>/dev/null && "$CTHULHU" destroy >/dev/null 2>&1); docker stack rm swbench >/dev/null 2>&1; rm -rf "$work"' EXIT
now() { date +%s.%N; }
count() { # count LABEL-FILTER [ps flags]: containers with that label on every node
  local n=0 e
  for e in $nodes; do n=$((n + $(docker -H "$e" ps -q ${2:-} --filter "label=$1" | wc -l))); done
  echo "$n"
}

mkdir -p "$work/c/templates"
echo '{"self": "{{ instance.ip }}"}' >"$work/c/templates/config.json"
cat >"$work/c/cthulhu.yaml" <<YAML
fixture: swbench
driver: swarm
network: { subnet: 10.242.0.0/24 }
groups:
  node:
    image: cthulhu-test:latest
    count: $N
    command: ["/bin/sh", "-c", "exec httpd -f -p 8080 -h /opt/app/etc"]
    templates:
      - { source: templates/config.json, target: etc/config.json }
    stop_timeout: 1s
YAML
cat >"$work/stack.yml" <<YAML
version: "3.8"
services:
  node:
    image: cthulhu-test:latest
    command: ["/bin/sh", "-c", "exec httpd -f -p 8080 -h /etc"]
    stop_grace_period: 1s
    deploy: { replicas: $N, endpoint_mode: dnsrr, restart_policy: { condition: none } }
    networks: [net]
networks:
  net: { driver: overlay, attachable: true, ipam: { config: [{ subnet: 10.243.0.0/24 }] } }
YAML

ca=() cd=() sa=() sd=()
for k in $(seq 1 "$K"); do
  t0=$(now); (cd "$work/c" && "$CTHULHU" apply >/dev/null); t1=$(now)
  [ "$(count io.cthulhu.group=node)" = "$N" ] || { echo "cthulhu apply left fewer than $N running" >&2; exit 1; }
  (cd "$work/c" && "$CTHULHU" destroy >/dev/null); t2=$(now)
  [ "$(count io.cthulhu.fixture=swbench -a)" = 0 ] || { echo "cthulhu destroy left containers" >&2; exit 1; }
  ca+=("$(echo "$t1 - $t0" | bc)") cd+=("$(echo "$t2 - $t1" | bc)")

  t0=$(now); docker stack deploy -c "$work/stack.yml" swbench >/dev/null 2>&1
  until [ "$(count com.docker.stack.namespace=swbench)" = "$N" ]; do sleep 0.1; done; t1=$(now)
  docker stack rm swbench >/dev/null
  until [ "$(count com.docker.stack.namespace=swbench -a)" = 0 ] && ! docker network inspect swbench_net >/dev/null 2>&1; do sleep 0.1; done
  t2=$(now)
  sa+=("$(echo "$t1 - $t0" | bc)") sd+=("$(echo "$t2 - $t1" | bc)")
  echo "round $k: cthulhu ${ca[-1]} s / ${cd[-1]} s, stack ${sa[-1]} s / ${sd[-1]} s" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ma=$(median "${ca[@]}") md=$(median "${cd[@]}") sa_=$(median "${sa[@]}") sd_=$(median "${sd[@]}")
printf '| | apply %s (median of %s) | destroy %s |\n| --- | --- | --- |\n' "$N" "$K" "$N"
printf '| cthulhu, driver: swarm | %.2f s | %.2f s |\n' "$ma" "$md"
printf '| docker stack deploy / rm | %.2f s | %.2f s |\n' "$sa_" "$sd_"
printf '| ratio cthulhu / stack | %.2f× | %.2f× |\n' "$(echo "$ma / $sa_" | bc -l)" "$(echo "$md / $sd_" | bc -l)"

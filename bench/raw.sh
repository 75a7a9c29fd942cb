#!/usr/bin/env bash
# The engine floor: the bench's containers made, restarted and removed
# straight through the Engine API, 8 requests in flight (curl + xargs -P 8),
# no client logic at all. Used by bench/run; every name starts with PREFIX.
#
#   raw.sh up PREFIX SUBNET DIR FROM TO [VALUE]  create the network if FROM is 1, then
#                                         create all, then start all, i FROM..TO
#   raw.sh template PREFIX SUBNET DIR VALUE  rewrite the configs of i001..i005, restart them (t=1)
#   raw.sh list PREFIX                    one list call by label (the no-op floor)
#   raw.sh down PREFIX                    force-remove every container, then the network
set -euo pipefail

SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
API=http://localhost/v1.41
P=${BENCH_PARALLEL:-8}
. "$(dirname "$0")/config.sh"
req() { curl -sS --fail --unix-socket "$SOCK" -o /dev/null "$@"; }

cmd=$1; shift
case $cmd in
up)
  prefix=$1 subnet=$2 dir=$3 from=$4 to=$5 value=${6:-0}
  base=${subnet%.0/24}
  net=$prefix-net
  if [ "$from" -eq 1 ]; then
    req -H 'Content-Type: application/json' -X POST "$API/networks/create" \
      -d "{\"Name\":\"$net\",\"CheckDuplicate\":true,\"Labels\":{\"io.cthulhu.bench\":\"$prefix\"},\"IPAM\":{\"Config\":[{\"Subnet\":\"$subnet\",\"Gateway\":\"$base.1\"}]}}"
  fi
  mkdir -p "$dir/bodies"
  for i in $(seq "$from" "$to"); do
    ip=$base.$((i + 1)) n=$(printf 'i%03d' "$i")
    config "$dir" "$ip" "$n" $((i - 1)) "$value"
    printf '{"Image":"cthulhu-test:latest","Cmd":["sleep","3600"],"Labels":{"io.cthulhu.bench":"%s"},"HostConfig":{"Memory":16777216,"NetworkMode":"%s","Binds":["%s:/opt/app/etc","%s:/opt/app/var"]},"NetworkingConfig":{"EndpointsConfig":{"%s":{"IPAMConfig":{"IPv4Address":"%s"}}}}}' \
      "$prefix" "$net" "$dir/$ip/etc" "$dir/$ip/var" "$net" "$ip" >"$dir/bodies/$n.json"
  done
  seq -f 'i%03g' "$from" "$to" | xargs -P "$P" -I{} curl -sS --fail --unix-socket "$SOCK" -o /dev/null \
    -H 'Content-Type: application/json' -d @"$dir/bodies/{}.json" "$API/containers/create?name=$prefix-{}"
  seq -f 'i%03g' "$from" "$to" | xargs -P "$P" -I{} curl -sS --fail --unix-socket "$SOCK" -o /dev/null \
    -X POST "$API/containers/$prefix-{}/start"
  ;;
template)
  prefix=$1 subnet=$2 dir=$3 value=$4
  base=${subnet%.0/24}
  for i in 1 2 3 4 5; do config "$dir" "$base.$((i + 1))" "$(printf 'i%03d' "$i")" $((i - 1)) "$value"; done
  seq -f 'i%03g' 1 5 | xargs -P "$P" -I{} curl -sS --fail --unix-socket "$SOCK" -o /dev/null \
    -X POST "$API/containers/$prefix-{}/restart?t=1"
  ;;
list)
  prefix=$1
  curl -sS --fail --unix-socket "$SOCK" -G "$API/containers/json" --data-urlencode "all=1" \
    --data-urlencode "filters={\"label\":[\"io.cthulhu.bench=$prefix\"]}" >/dev/null
  ;;
down)
  prefix=$1
  ids=$(curl -sS --fail --unix-socket "$SOCK" -G "$API/containers/json" --data-urlencode "all=1" \
    --data-urlencode "filters={\"label\":[\"io.cthulhu.bench=$prefix\"]}" | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4)
  if [ -n "$ids" ]; then
    printf '%s\n' "$ids" | xargs -P "$P" -I{} curl -sS --fail --unix-socket "$SOCK" -o /dev/null -X DELETE "$API/containers/{}?force=true"
  fi
  # Just after a forced remove the engine may still count an endpoint on the
  # network for a moment ("has active endpoints"): try again until it is gone.
  for _ in $(seq 1 50); do
    code=$(curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' -X DELETE "$API/networks/$prefix-net")
    case $code in 204 | 404) break ;; esac
    sleep 0.1
  done
  ;;
*) echo "raw.sh: unknown command $cmd" >&2; exit 2 ;;
esac

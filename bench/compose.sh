#!/usr/bin/env bash
# docker compose (Debian's docker-compose 1.29) on the bench's containers:
# one service per instance (static IP, bind-mounted etc/var, 16 MB, sleep),
# one user network. Used by bench/run.
#
#   compose.sh gen DIR PROJECT SUBNET N [VALUE]   write DIR/docker-compose.yml and the configs
#   compose.sh template DIR SUBNET VALUE PROJECT         rewrite the configs of i001..i005, restart them
#   compose.sh CMD DIR PROJECT ARGS…              docker-compose -p PROJECT -f DIR/docker-compose.yml CMD ARGS…
set -euo pipefail

. "$(dirname "$0")/config.sh"

cmd=$1; shift
case $cmd in
gen)
  dir=$1 project=$2 subnet=$3 n=$4 value=${5:-0}
  base=${subnet%.0/24}
  mkdir -p "$dir"
  {
    printf 'version: "2.4"\nnetworks:\n  default:\n    ipam:\n      config:\n        - subnet: %s\nservices:\n' "$subnet"
    for i in $(seq 1 "$n"); do
      ip=$base.$((i + 1)) name=$(printf 'i%03d' "$i")
      config "$dir" "$ip" "$name" $((i - 1)) "$value"
      printf '  %s:\n    image: cthulhu-test:latest\n    command: ["sleep", "3600"]\n    mem_limit: 16m\n    stop_grace_period: 1s\n' "$name"
      printf '    labels: { io.cthulhu.bench: "%s" }\n' "$project"
      printf '    volumes: ["%s/%s/etc:/opt/app/etc", "%s/%s/var:/opt/app/var"]\n' "$dir" "$ip" "$dir" "$ip"
      printf '    networks: { default: { ipv4_address: "%s" } }\n' "$ip"
    done
  } >"$dir/docker-compose.yml"
  ;;
template)
  dir=$1 subnet=$2 value=$3 project=$4
  base=${subnet%.0/24}
  for i in 1 2 3 4 5; do config "$dir" "$base.$((i + 1))" "$(printf 'i%03d' "$i")" $((i - 1)) "$value"; done
  docker-compose -p "$project" -f "$dir/docker-compose.yml" restart -t 1 i001 i002 i003 i004 i005
  ;;
*)
  dir=$1 project=$2; shift 2
  docker-compose -p "$project" -f "$dir/docker-compose.yml" "$cmd" "$@"
  ;;
esac

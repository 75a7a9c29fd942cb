#!/usr/bin/env bash
# Installs the Debian packages of scripts/packages.txt that are missing
# (root only: apt-get). Not root, it names the missing ones and exits 0:
# the tests that need them skip, each naming its package (and fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
while read -r p; do
  p=${p%%#*}
  p=${p//[[:space:]]/}
  [ -z "$p" ] && continue
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done <scripts/packages.txt
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: not root, so not installing: ${need[*]} (the tests that need them skip)" >&2
  exit 0
fi
echo "deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null

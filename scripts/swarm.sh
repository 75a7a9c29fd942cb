#!/usr/bin/env bash
# A real Docker Swarm on this one machine, for cthulhu's swarm driver tests.
#
#   eval "$(scripts/swarm.sh up [N])"   # N nodes (default 3); stdout is only
#                                       # `export DOCKER_HOST=…` (the manager)
#   scripts/swarm.sh down               # removes everything `up` made
#
# Each node is a dockerd of its own in a network namespace of its own
# (`cthulhu-swarm-nI`), joined by a veth pair to a bridge in a hub namespace
# (`cthulhu-swarm-hub`), 10.231.0.I/24, no default route: nothing leaves
# those namespaces. The daemon runs in a private mount namespace where
# <dir>/nI/etc-docker is bind-mounted over /etc/docker (so it does not read
# the main daemon's key) with its own --data-root, --exec-root, socket and
# cgroup parent, and a UTS namespace whose hostname (cthulhu-swarm-nI) is the
# node's name in the swarm; `nsenter --net` (not `ip netns exec`) keeps /sys as it is.
# Node 1 inits the swarm and the others join; each node carries the label
# io.cthulhu.engine=unix://<dir>/nI/docker.sock, which is how cthulhu's swarm
# driver reaches every node's engine from the manager alone. The test image
# (cthulhu-test:latest, read from the main daemon with `docker save`, built
# there by scripts/test-image.sh when it is missing) is loaded on every node.
#
# The main dockerd (/var/run/docker.sock) is only read from. State lives in
# $CTHULHU_SWARM_DIR (default /run/cthulhu-swarm); every process `up` starts
# runs in a cgroup of its own: the daemons, their containerd and shims in
# cthulhu-swarm/dI below the cgroup `up` ran in (recorded in <dir>/cgroups),
# the containers in <hierarchy>/cthulhu-swarm/nI (--cgroup-parent), and
# `down` signals exactly the PIDs those cgroups hold, then removes the
# namespaces, the folder and the cgroups. Kernel facts: no IPVS here, so
# services need --endpoint-mode dnsrr and there is no routing mesh.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${CTHULHU_SWARM_DIR:-/run/cthulhu-swarm}
CG=cthulhu-swarm
HUB=cthulhu-swarm-hub
NET=10.231.0
IMAGE=${CTHULHU_SWARM_IMAGE:-cthulhu-test:latest}
export DOCKER_API_VERSION=1.41

say() { echo "swarm.sh: $*" >&2; }
die() { say "$*"; exit 1; }
ns() { echo "cthulhu-swarm-n$1"; }
sock() { echo "$DIR/n$1/docker.sock"; }
dn() { docker -H "unix://$(sock "$1")" "${@:2}"; }

# wait_for SECONDS WHAT COMMAND…: runs COMMAND until it succeeds, or fails
# naming WHAT once SECONDS have passed.
wait_for() {
  local limit=$1 what=$2 end=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || die "$what did not happen within ${limit}s"
    sleep 0.2
  done
}

# The cgroup-v1 hierarchies (or the one v2 tree) where our cgroups live.
hierarchies() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo /sys/fs/cgroup
  else
    for h in /sys/fs/cgroup/*/; do
      [ -f "$h/cgroup.procs" ] && echo "${h%/}"
    done
  fi
}

# Where our cgroups are: the containers' under <hierarchy>/cthulhu-swarm
# (--cgroup-parent, as the main dockerd's are under /docker); the daemons'
# under the cgroup `up` ran in (the machine's accounting of it is kept), as
# $DIR/cgroups recorded them.
cgroup_roots() {
  local h
  for h in $(hierarchies); do echo "$h/$CG"; done
  [ -f "$DIR/cgroups" ] && cat "$DIR/cgroups"
  true
}

# Where this shell's cgroup is in hierarchy $1.
current_cgroup() {
  local h=$1 name path
  if [ "$h" = /sys/fs/cgroup ]; then
    sed -n 's/^0:://p' /proc/self/cgroup
    return
  fi
  name=${h##*/}
  path=$(awk -F: -v n="$name" '{ split($2, c, ","); for (i in c) if (c[i] == n || c[i] == "name=" n) print $3 }' /proc/self/cgroup | head -n1)
  [ "$name" = unified ] && path=$(sed -n 's/^0:://p' /proc/self/cgroup)
  echo "${path:-/}"
}

# PIDs in our cgroups (any hierarchy, any depth).
our_pids() {
  local r
  for r in $(cgroup_roots); do
    [ -d "$r" ] && find "$r" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

alive() {
  local s
  s=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$s" ] && [ "${s:0:1}" != Z ]
}

down() {
  local roots_before
  roots_before=$(cgroup_roots)
  # Daemons first, gracefully (each stops its containers), then whatever
  # our cgroups still hold.
  local pid end n
  for f in "$DIR"/n*/docker.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if grep -qs "/$CG/" "/proc/$pid/cgroup"; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  end=$((SECONDS + 30))
  for f in "$DIR"/n*/docker.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    while alive "$pid" && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
  done
  for sig in TERM KILL; do
    for pid in $(our_pids); do kill -"$sig" "$pid" 2>/dev/null || true; done
    end=$((SECONDS + 10))
    while [ "$SECONDS" -lt "$end" ]; do
      n=0
      for pid in $(our_pids); do alive "$pid" && n=$((n + 1)); done
      [ "$n" = 0 ] && break
      sleep 0.2
    done
  done
  for n in $(ip netns list | awk '{print $1}' | grep -E '^cthulhu-swarm-(n[0-9]+|hub)$' || true); do
    ip netns del "$n"
  done
  # The daemons' mounts lived in their private mount namespaces, gone with
  # them; anything under $DIR still mounted here (none expected) goes first.
  if [ -f "$DIR/.cthulhu-swarm" ]; then
    { grep -o " $DIR[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$DIR"
  elif [ -e "$DIR" ]; then
    say "left $DIR: swarm.sh did not make it (no .cthulhu-swarm in it)"
  fi
  local r
  for r in $roots_before; do
    [ -d "$r" ] || continue
    # Deepest first; a cgroup still holding a zombie is retried briefly.
    end=$((SECONDS + 10))
    while [ -d "$r" ] && [ "$SECONDS" -lt "$end" ]; do
      find "$r" -depth -type d -exec rmdir {} \; 2>/dev/null || sleep 0.2
    done
    [ ! -d "$r" ] || say "could not remove cgroup $r (a process is still in it)"
  done
  say "down: no node left"
}

# Starts node I's daemon in its namespace and cgroups.
start_node() {
  local i=$1 d="$DIR/n$1" h
  mkdir -p "$d/etc-docker" "$d/data" "$d/x"
  echo '{}' >"$d/etc-docker/daemon.json"
  for h in $(hierarchies); do
    mkdir -p "$h$(current_cgroup "$h" | sed 's|/$||')/$CG/d$i"
  done
  # The daemon enters its cgroups before exec (so containerd and the shims
  # it starts are ours too), then the node's network namespace and a
  # private mount namespace.
  nohup setsid sh -c '
    for g in '"$(for h in $(hierarchies); do echo "$h$(current_cgroup "$h" | sed 's|/$||')/$CG/d$i"; done | tr '\n' ' ')"'; do echo $$ >"$g/cgroup.procs"; done
    exec nsenter --net=/run/netns/'"$(ns "$i")"' unshare -m -u --propagation private sh -c "
      hostname '"$(ns "$i")"' && mount --bind '"$d"'/etc-docker /etc/docker && exec dockerd \
        --data-root '"$d"'/data --exec-root '"$d"'/x --pidfile '"$d"'/docker.pid \
        -H unix://'"$d"'/docker.sock --bip 10.233.'"$i"'.1/24 \
        --default-address-pool base=10.234.'"$i"'.0/24,size=28 \
        --cgroup-parent /'"$CG"'/n'"$i"' --iptables=true"
  ' >"$d/dockerd.log" 2>&1 </dev/null &
}

has_image() {
  local i
  for i in $(seq 1 "$1"); do dn "$i" image inspect "$IMAGE" >/dev/null 2>&1 || return 1; done
}

up() {
  local n=${1:-3} i
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 9 ] || die "give a node count from 1 to 9 (got '$n')"
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces, dockerd)"
  command -v dockerd >/dev/null || die "dockerd is not installed (apt install docker.io)"
  # $DIR is ours only if it is new or already marked as ours: down removes
  # it whole, so a folder of someone else's is refused here.
  if [ -e "$DIR" ] && [ ! -f "$DIR/.cthulhu-swarm" ] && [ -n "$(ls -A "$DIR" 2>/dev/null)" ]; then
    die "$DIR exists and was not made by swarm.sh; set CTHULHU_SWARM_DIR to a new folder"
  fi
  # Already up with N nodes, all Ready: nothing to do.
  if [ -S "$(sock 1)" ] && [ "$(dn 1 node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" = "$n" ] &&
    [ "$(cat "$DIR/nodes" 2>/dev/null)" = "$n" ] && has_image "$n"; then
    say "already up: $n node(s)"
    echo "export DOCKER_HOST=unix://$(sock 1)"
    return
  fi
  if [ -d "$DIR" ] || ip netns list | grep -q '^cthulhu-swarm-'; then
    say "a previous swarm is in the way: removing it"
    down
  fi
  # The image, read from the main daemon (built there when missing).
  if ! DOCKER_HOST= docker image inspect "$IMAGE" >/dev/null 2>&1; then
    [ "$IMAGE" = cthulhu-test:latest ] || die "$IMAGE is not in the main daemon"
    say "building $IMAGE in the main daemon"
    scripts/test-image.sh >&2
  fi
  mkdir -p "$DIR"
  touch "$DIR/.cthulhu-swarm"
  echo "$n" >"$DIR/nodes"
  for h in $(hierarchies); do
    local cur
    cur=$(current_cgroup "$h" | sed 's|/$||')
    [ -z "$cur" ] || echo "$h$cur/$CG"
  done >"$DIR/cgroups"
  local t0=$SECONDS
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" addr add "$NET.254/24" dev br0
  ip -n "$HUB" link set br0 up
  ip -n "$HUB" link set lo up
  for i in $(seq 1 "$n"); do
    ip netns add "$(ns "$i")"
    ip -n "$HUB" link add "n$i" type veth peer name eth0 netns "$(ns "$i")"
    ip -n "$HUB" link set "n$i" master br0 up
    ip -n "$(ns "$i")" link set lo up
    ip -n "$(ns "$i")" addr add "$NET.$i/24" dev eth0
    ip -n "$(ns "$i")" link set eth0 up
    start_node "$i"
  done
  for i in $(seq 1 "$n"); do
    wait_for 60 "node $i's dockerd answering (log: $DIR/n$i/dockerd.log)" dn "$i" version
  done
  say "$n daemon(s) up in $((SECONDS - t0))s"
  dn 1 swarm init --advertise-addr "$NET.1" --listen-addr "$NET.1:2377" \
    --default-addr-pool 10.235.0.0/16 >/dev/null
  local token
  token=$(dn 1 swarm join-token -q worker)
  for i in $(seq 2 "$n"); do
    dn "$i" swarm join --token "$token" --advertise-addr "$NET.$i" --listen-addr "$NET.$i:2377" "$NET.1:2377" >/dev/null
  done
  ready() { [ "$(dn 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$n" ]; }
  wait_for 60 "all $n nodes Ready" ready
  # The label that tells cthulhu where each node's engine answers.
  for i in $(seq 1 "$n"); do
    local id
    id=$(dn "$i" info --format '{{.Swarm.NodeID}}')
    dn 1 node update --label-add "io.cthulhu.engine=unix://$(sock "$i")" "$id" >/dev/null
  done
  DOCKER_HOST= docker save "$IMAGE" -o "$DIR/image.tar"
  local loads=()
  for i in $(seq 1 "$n"); do
    dn "$i" load -q -i "$DIR/image.tar" >/dev/null &
    loads+=($!)
  done
  for pid in "${loads[@]}"; do wait "$pid" || die "loading $IMAGE on a node failed"; done
  rm -f "$DIR/image.tar"
  for i in $(seq 1 "$n"); do dn "$i" image inspect "$IMAGE" >/dev/null || die "$IMAGE did not load on node $i"; done
  say "swarm of $n node(s) Ready with $IMAGE on each in $((SECONDS - t0))s"
  echo "export DOCKER_HOST=unix://$(sock 1)"
}

case "${1:-}" in
  up) up "${2:-3}" ;;
  down) down ;;
  *) die "usage: scripts/swarm.sh up [N] | down" ;;
esac

# Shared helpers for cthulhu's bats suites. They use a fixture only as a
# user would: the cthulhu binary to apply and destroy, then the fixture
# folder's control scripts, links, spec.json and bindmounts.

: "${CTHULHU:=cthulhu}"
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
# What the fixture runs on: docker (containers), swarm (containers spread
# over the Docker Swarm whose manager DOCKER_HOST names, e.g. after
# `eval "$(scripts/swarm.sh up 3)"`), namespaces (host processes, each in its
# own network namespace; root) or loopback (host processes on 127.x
# addresses; network faults are refused).
: "${CTHULHU_BATS_TARGET:=docker}"
REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# wait_until SECONDS COMMAND…: retry COMMAND every 0.2 s until it succeeds;
# fail (printing the last output) when the deadline passes.
wait_until() {
  local deadline=$((SECONDS + $1)) out
  shift
  while true; do
    if out=$("$@" 2>&1); then return 0; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "gave up waiting for: $* (last output: $out)" >&3
      return 1
    fi
    sleep 0.2
  done
}

# wait_for SECONDS COMMAND…: as wait_until, and prints the output of the
# call that succeeded. `x=$(wait_until … cmd && cmd)` asks twice, and the
# second answer can differ (a leader that changed in between).
wait_for() {
  local deadline=$((SECONDS + $1)) out
  shift
  while true; do
    if out=$("$@" 2>/dev/null); then
      printf '%s\n' "$out"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "gave up waiting for: $* (last output: $out)" >&3
      return 1
    fi
    sleep 0.2
  done
}

# reaches FROM TO: FROM gets an HTTP answer from TO within a second.
reaches() {
  local ip
  ip=$(readlink "$FIXTURE/$2")
  "$FIXTURE/control" exec "$1" -- busybox sh -c "printf 'GET /config.json HTTP/1.0\r\n\r\n' | busybox nc -w 1 $ip 8080" | grep -q "200 OK"
}

cut_off() { ! reaches "$1" "$2"; }

# log_lines NAME: the lines of NAME's log file (bindmounts/var/NAME.log), read
# after its `control logs`: on swarm the file is pulled from the engine then
# (and on logs, status, stop, kill and destroy), elsewhere it is live.
log_lines() {
  local ip
  ip=$(readlink "$FIXTURE/$1")
  "$FIXTURE/$ip/control" logs >/dev/null 2>&1
  wc -l <"$FIXTURE/$ip/bindmounts/var/$1.log"
}

# start_fixture: apply the example manifest of $CTHULHU_BATS_TARGET (busybox
# web servers serving their rendered config.json) under a unique name in a
# temp folder.
start_fixture() {
  local manifest
  case "$CTHULHU_BATS_TARGET" in
    docker | swarm) manifest=three-nodes.yaml ;;
    namespaces | loopback) manifest=process-loopback.yaml ;;
    *) echo "CTHULHU_BATS_TARGET must be docker, swarm, namespaces or loopback" >&3; return 1 ;;
  esac
  use_manifest "$manifest"
}

# use_manifest FILE [SED-EXPRESSION…]: copy manifests/FILE and its templates
# into a temp folder with a unique fixture name and the process network mode
# of $CTHULHU_BATS_TARGET, edited further by the sed expressions, and apply
# it. A program of the repository's build (../.build/debug/…) is taken from
# where $CTHULHU was built.
use_manifest() {
  export WORK="$BATS_FILE_TMPDIR/work"
  mkdir -p "$WORK"
  cp -r "$REPO/manifests/templates" "$WORK/"
  export NAME="bats-$$-$RANDOM"
  local mode=$CTHULHU_BATS_TARGET bin
  local driver=
  [ "$mode" = swarm ] && driver="driver: swarm"
  [ "$mode" = docker ] || [ "$mode" = swarm ] && mode=loopback
  bin=$(cd "$(dirname "$(command -v "$CTHULHU")")" && pwd)
  local file=$1 edits=()
  shift
  for e in "$@"; do edits+=(-e "$e"); done
  sed -e "s/^fixture: .*/fixture: $NAME\n$driver/" -e "s/mode: loopback/mode: $mode/" \
    -e "s|\"\.\./\.build/debug/|\"$bin/|" "${edits[@]}" "$REPO/manifests/$file" >"$WORK/cthulhu.yaml"
  (cd "$WORK" && "$CTHULHU" apply) >/dev/null
  export FIXTURE="$WORK/cthulhu-fixture"
}

stop_fixture() {
  [ -n "${WORK:-}" ] && (cd "$WORK" && "$CTHULHU" destroy) >/dev/null || true
}

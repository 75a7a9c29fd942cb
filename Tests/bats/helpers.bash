# Shared helpers for cthulhu's bats suites. They use a fixture only as a
# user would: the cthulhu binary to apply and destroy, then the fixture
# folder's control scripts, links, spec.json and bindmounts.

: "${CTHULHU:=cthulhu}"
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}

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

# reaches FROM TO: FROM gets an HTTP answer from TO within a second.
reaches() {
  local ip
  ip=$(readlink "$FIXTURE/$2")
  "$FIXTURE/control" exec "$1" -- sh -c "printf 'GET /config.json HTTP/1.0\r\n\r\n' | nc -w 1 $ip 8080" | grep -q "200 OK"
}

cut_off() { ! reaches "$1" "$2"; }

# start_fixture: apply the example manifest under a unique name in a temp folder.
start_fixture() {
  export WORK="$BATS_FILE_TMPDIR/work"
  mkdir -p "$WORK"
  cp -r "$BATS_TEST_DIRNAME/../../manifests/templates" "$WORK/"
  export NAME="bats-$$-$RANDOM"
  sed "s/^fixture: .*/fixture: $NAME/" "$BATS_TEST_DIRNAME/../../manifests/three-nodes.yaml" >"$WORK/cthulhu.yaml"
  (cd "$WORK" && "$CTHULHU" apply) >/dev/null
  export FIXTURE="$WORK/cthulhu-fixture"
}

stop_fixture() {
  [ -n "${WORK:-}" ] && (cd "$WORK" && "$CTHULHU" destroy) >/dev/null || true
}

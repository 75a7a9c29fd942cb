#!/usr/bin/env bats
# What survives a crash: manifests/demo-crash.yaml runs the demo's five nodes
# with their Raft state in a mount with faults (cthulhu's disk layer), and a
# nemesis that crashes all of them at once (`crash: all`: SIGKILL, then what
# a node did not make durable is lost). The demo fsyncs its state before it
# answers, so the run is valid; with `fsync: false` it answers first, and the
# run catches the acknowledged writes the crash took. Host processes on
# loopback addresses; the disk layer needs root and /dev/fuse.

load helpers

setup() {
  if [ "$(id -u)" != 0 ] || [ ! -e /dev/fuse ]; then
    [ "${CI:-}" = true ] && fail "CI=true and the disk layer needs root and /dev/fuse"
    skip "the disk layer needs root and /dev/fuse"
  fi
  export RUN="$BATS_TEST_TMPDIR/run"
  mkdir -p "$RUN"
  cp -r "$REPO/manifests/templates" "$RUN/"
}

# crash_run [SED-EDIT…]: the manifest, renamed and pointed at this build,
# with the edits; `cthulhu test`, then destroy (always). Exits as the run did.
crash_run() {
  local bin edits=()
  bin=$(cd "$(dirname "$(command -v "$CTHULHU")")" && pwd)
  for e in "$@"; do edits+=(-e "$e"); done
  sed -e "s/^fixture: .*/fixture: bats-crash-$$-$RANDOM/" -e "s|\"\.\./\.build/debug/|\"$bin/|" -e "s|\.\./clients/|$REPO/clients/|g" \
    "${edits[@]}" "$REPO/manifests/demo-crash.yaml" >"$RUN/cthulhu.yaml"
  run bash -c 'cd "$RUN" && "$CTHULHU" test; s=$?; "$CTHULHU" destroy >/dev/null; exit $s'
  echo "$output"
}

result() { jq -r "$1" "$RUN/cthulhu-demo-crash/runs/latest/results.json"; }

# No layer, daemon or mount of the run is left behind.
nothing_left() {
  ! grep -q " $RUN/.* fuse.cthulhu " /proc/self/mountinfo
  ! pgrep -f "_disk --fixture $RUN/" >/dev/null
}

@test "crashed all at once, the demo loses no acknowledged write: valid, exit 0" {
  crash_run
  [ "$status" -eq 0 ]
  [ "$(result .valid)" = true ]
  [ "$(result .checker.verdict)" = linearizable ]
  [ "$(result '.counts.write.ok')" -gt 20 ]
  # The crashes happened within the run.
  [ "$(result '.faults | length')" -ge 2 ]
  grep -q '"process": "nemesis", "type": "ok", "f": "crash"' "$RUN/cthulhu-demo-crash/runs/latest/history.jsonl"
  nothing_left
}

@test "with fsync off, the crash takes acknowledged writes and the run says so: exit 2" {
  crash_run 's/fsync: true }/fsync: false }/'
  grep -q 'fsync: false' "$RUN/cthulhu.yaml"
  [ "$status" -eq 2 ]
  [ "$(result .valid)" = false ]
  [ "$(result .checker.verdict)" = "not linearizable" ]
  nothing_left
}

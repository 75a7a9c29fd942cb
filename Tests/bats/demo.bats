#!/usr/bin/env bats
# The classic test of a consensus system, on the quickstart (five nodes of
# cthulhu-demo as host processes): find the one leader, stop it, see another
# elected, partition a minority away, heal; clients' reads and writes,
# recorded with `cthulhu op` while the leader is cut off, check as
# linearizable (demo-stale-reads.bats: the unsafe mode does not). CTHULHU_BATS_TARGET=namespaces
# (root) gives each node its own network namespace, so partitions work;
# loopback must refuse them and change nothing.

load helpers
load demo-helpers

setup_file() {
  use_manifest quickstart.yaml
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

teardown_file() {
  stop_fixture
}

teardown() {
  [ -d "$FIXTURE" ] || return 0   # the last test destroys it
  "$FIXTURE/control" reset >/dev/null
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

@test "five nodes elect exactly one leader, and a write reaches every node" {
  leader=$(one_leader i001 i002 i003 i004 i005)
  run write "$leader" "v-$RANDOM"
  [ "$status" -eq 0 ]
  value=$(field value <<<"$output")
  for n in i001 i002 i003 i004 i005; do wait_until 10 has_value "$n" "$value"; done
  # A follower refuses writes and names the leader.
  follower=$(others "$leader" | head -1)
  run curl -sS -m 2 --data-binary nope "http://$(readlink "$FIXTURE/$follower"):8080/value"
  [[ "$output" == *"not the leader"*"$leader"* ]]
}

@test "the leader stopped, the other four elect another; back, it follows" {
  old=$(one_leader i001 i002 i003 i004 i005)
  "$FIXTURE/$old/control" stop
  "$FIXTURE/control" status | grep -Eq "^$old .* exited"
  # shellcheck disable=SC2046
  new=$(wait_for 20 one_leader $(others "$old"))
  [ -n "$new" ] && [ "$new" != "$old" ]
  "$FIXTURE/$old/control" start
  wait_until 20 sh -c "curl -fsS -m 1 http://$(readlink "$FIXTURE/$old"):8080/admin | grep -q '\"role\":\"follower\"'"
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

@test "a killed node keeps its log and state file, and catches up" {
  leader=$(one_leader i001 i002 i003 i004 i005)
  victim=$(others "$leader" | tail -1)
  ip=$(readlink "$FIXTURE/$victim")
  "$FIXTURE/$victim/control" kill
  wait_until 10 sh -c "\"$FIXTURE/control\" status | grep -Eq '^$victim .* exited'"
  value="while-down-$RANDOM"
  write "$leader" "$value"
  "$FIXTURE/$victim/control" start
  wait_until 20 has_value "$victim" "$value"
  [ -s "$FIXTURE/$ip/bindmounts/var/raft.json" ]
  grep -q "$victim term" "$FIXTURE/$ip/bindmounts/var/$victim.log"
}

@test "a minority partitioned away can neither lead nor commit; after heal all agree" {
  if [ "$CTHULHU_BATS_TARGET" = loopback ]; then
    before=$(cat "$FIXTURE/.cthulhu/faults.json" 2>/dev/null || true)
    run "$FIXTURE/control" partition i001,i002 i003,i004,i005
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *namespaces*loopback* ]]
    [ "$(cat "$FIXTURE/.cthulhu/faults.json" 2>/dev/null || true)" = "$before" ]
    run "$FIXTURE/control" faults
    [ "$output" = "No faults." ]
    return
  fi
  old=$(one_leader i001 i002 i003 i004 i005)
  buddy=$(others "$old" | head -1)
  # shellcheck disable=SC2046
  majority=$(others "$old" "$buddy" | paste -sd, -)
  "$FIXTURE/control" partition "$old,$buddy" "$majority"
  # The majority elects one of its own and commits; the old leader cannot.
  # shellcheck disable=SC2046,SC2086
  new=$(wait_for 20 one_leader ${majority//,/ })
  [ "$new" != "$old" ] && [ "$new" != "$buddy" ]
  run write "$old" "minority-$RANDOM"
  [ "$status" -ne 0 ]
  value="majority-$RANDOM"
  write "$new" "$value"
  ! has_value "$buddy" "$value"
  "$FIXTURE/control" heal
  wait_until 20 one_leader i001 i002 i003 i004 i005
  for n in i001 i002 i003 i004 i005; do wait_until 20 has_value "$n" "$value"; done
}

@test "reads and writes recorded while the leader is cut off check as linearizable" {
  export HISTORY="$BATS_TEST_TMPDIR/history.jsonl" STOP="$BATS_TEST_TMPDIR/stop"
  old=$(one_leader i001 i002 i003 i004 i005)
  # The register holds what earlier tests wrote: a first recorded write, done
  # before any other call starts, gives the history its starting point.
  op 0 write "$old" start
  pids=()
  for p in 1 2 3; do
    client "$p" i001 i002 i003 i004 i005 3>&- &
    pids+=($!)
  done
  wait_until 20 more_than 2 ok write
  if [ "$CTHULHU_BATS_TARGET" = loopback ]; then
    # No partitions on loopback: the leader stops instead, and comes back.
    "$FIXTURE/$old/control" stop
    # shellcheck disable=SC2046
    wait_until 20 one_leader $(others "$old")
    n=$(recorded ok write)
    wait_until 20 more_than "$((n + 2))" ok write
    "$FIXTURE/$old/control" start
  else
    buddy=$(others "$old" | head -1)
    # shellcheck disable=SC2046
    majority=$(others "$old" "$buddy" | paste -sd, -)
    "$FIXTURE/control" partition "$old,$buddy" "$majority"
    # shellcheck disable=SC2046,SC2086
    new=$(wait_for 20 one_leader ${majority//,/ })
    n=$(recorded ok write)
    wait_until 20 more_than "$((n + 2))" ok write
    # The cut-off side cannot answer a read once the majority moved on: it is
    # refused (recorded as fail), never served stale.
    run op 90 read "$buddy"
    [ "$status" -eq 3 ]
    "$FIXTURE/control" heal
  fi
  wait_until 20 one_leader i001 i002 i003 i004 i005
  n=$(recorded ok write)
  wait_until 20 more_than "$((n + 2))" ok write
  touch "$STOP"
  wait "${pids[@]}"
  [ "$(recorded ok read)" -gt 5 ]
  # Reads on every node, followers included, saw written values.
  grep -q '"type": "ok", "f": "read", "value": "w' "$HISTORY"
  run "$CTHULHU" check --model register "$HISTORY"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "$HISTORY: linearizable (register, "* ]]
}

@test "clients/demo-leader prints the one leader, for a nemesis to cut" {
  leader=$(one_leader i001 i002 i003 i004 i005)
  run env CTHULHU_SPEC="$FIXTURE/spec.json" "$REPO/clients/demo-leader"
  [ "$status" -eq 0 ]
  [ "$output" = "$leader" ]
}

@test "clients/demo-register speaks the JSON Lines protocol: a write through a follower reaches the leader, a stopped node refuses" {
  leader=$(one_leader i001 i002 i003 i004 i005)
  follower=$(others "$leader" | head -1)
  # Worker process p talks to node p mod 5: i001 is process 0.
  p=$((10#${follower#i} - 1))
  out=$(printf '%s\n' '{"f": "write", "value": 41}' '{"f": "read"}' '{"f": "cas", "value": [41, 42]}' |
    CTHULHU_SPEC="$FIXTURE/spec.json" CTHULHU_PROCESS=$p "$REPO/clients/demo-register")
  echo "$out"
  [ "$(sed -n 1p <<<"$out")" = '{"type": "ok", "value": 41}' ]
  [ "$(sed -n 2p <<<"$out")" = '{"type": "ok", "value": 41}' ]
  [[ "$(sed -n 3p <<<"$out")" == '{"type": "fail", "error": "cthulhu-demo has no '* ]]
  # A node that is down did nothing: both operations fail (not info).
  "$FIXTURE/$follower/control" stop
  out=$(printf '%s\n' '{"f": "write", "value": 43}' '{"f": "read"}' |
    CTHULHU_SPEC="$FIXTURE/spec.json" CTHULHU_PROCESS=$p "$REPO/clients/demo-register")
  echo "$out"
  [[ "$(sed -n 1p <<<"$out")" == '{"type": "fail", "error": "connection refused: '* ]]
  [[ "$(sed -n 2p <<<"$out")" == '{"type": "fail", "error": '* ]]
}

# demo_test [SED-EXPRESSION…]: a copy of manifests/demo-test.yaml in a
# folder of its own ($RUN), with a fixture name of its own, edited further by
# the sed expressions; on loopback (no partitions) the nemesis stops the
# leader instead of cutting it off.
demo_test() {
  export RUN="$BATS_TEST_TMPDIR/run"
  mkdir -p "$RUN"
  cp -r "$REPO/manifests/templates" "$RUN/"
  local bin edits=()
  bin=$(cd "$(dirname "$(command -v "$CTHULHU")")" && pwd)
  for e in "$@"; do edits+=(-e "$e"); done
  if [ "$CTHULHU_BATS_TARGET" = loopback ]; then
    edits+=(-e 's/mode: namespaces/mode: loopback/' -e "s|- partition: cut.*|- stop: { command: [\"$REPO/clients/demo-leader\"] }|" -e '/^      targets: /d')
  fi
  sed -e "s/^fixture: .*/fixture: $NAME-t/" -e "s|\"\.\./\.build/debug/|\"$bin/|" -e "s|\.\./clients/|$REPO/clients/|g" \
    "${edits[@]}" "$REPO/manifests/demo-test.yaml" >"$RUN/cthulhu.yaml"
}

# A run's results.json value by jq path.
result() { jq -r "$1" "$RUN/cthulhu-demo-test/runs/latest/results.json"; }

@test "cthulhu test of the demo's register workload under its nemesis: valid, exit 0, results and report written" {
  demo_test
  run bash -c 'cd "$RUN" && "$CTHULHU" test --time-limit 6s; s=$?; "$CTHULHU" destroy >/dev/null; exit $s'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(result .valid)" = true ]
  [ "$(result .model)" = register ]
  [ "$(result .checker.verdict)" = linearizable ]
  [ "$(result '.counts.write.ok')" -gt 5 ]
  [ "$(result '.counts.read.ok')" -gt 5 ]
  # The nemesis acted within the run: at least one fault period.
  [ "$(result '.faults | length')" -ge 1 ]
  grep -q '<h1 id="verdict">VALID</h1>' "$RUN/cthulhu-demo-test/runs/latest/report.html"
  [ -s "$RUN/cthulhu-demo-test/runs/latest/junit.xml" ]
}

@test "cthulhu test of the demo in its --stale-reads mode: the stale read is caught, exit 2" {
  [ "$CTHULHU_BATS_TARGET" != loopback ] || skip "the stale read needs the leader partitioned away (namespaces)"
  # The cut leader serves its own value while the other four elect and commit.
  demo_test 's/^    stop_timeout: .*/&\n    env: { CTHULHU_DEMO_STALE_READS: "1" }/' 's/^      for: .*/      for: 4s/'
  grep -q CTHULHU_DEMO_STALE_READS "$RUN/cthulhu.yaml"
  run bash -c 'cd "$RUN" && "$CTHULHU" test --time-limit 8s; s=$?; "$CTHULHU" destroy >/dev/null; exit $s'
  echo "$output"
  [ "$status" -eq 2 ]
  [ "$(result .valid)" = false ]
  [ "$(result .checker.verdict)" = "not linearizable" ]
  # The operation no order allows is a read (of a value since replaced).
  [ "$(result .checker.violation.blocked.f)" = read ]
  grep -q 'id="violation"' "$RUN/cthulhu-demo-test/runs/latest/report.html"
}

@test "cthulhu test of a set workload against a store that loses acknowledged adds when killed: exit 2, the lost elements counted" {
  # Tests/bats/forgetful-set acknowledges each add at once but saves every 2 s;
  # the nemesis kills it (SIGKILL) and starts it again.
  export RUN="$BATS_TEST_TMPDIR/set"
  mkdir -p "$RUN"
  mode=namespaces
  [ "$CTHULHU_BATS_TARGET" = loopback ] && mode=loopback
  cat >"$RUN/cthulhu.yaml" <<YAML
fixture: $NAME-set
driver: process
network: { mode: $mode }
groups:
  store:
    command: ["$REPO/Tests/bats/forgetful-set", "--state", "bindmounts/var/set.json"]
    healthcheck:
      command: ["/bin/sh", "-c", "curl -fsS -m 1 http://\$CTHULHU_IP:8080/health >/dev/null"]
      interval: 200ms
      retries: 25
nemesis:
  seed: 1
  faults:
    - kill: random 1
      after: 1500ms
      for: 1s
      every: 3s
workloads:
  lost:
    client: { command: ["$REPO/Tests/bats/forgetful-set-client"] }
    generator: set
    concurrency: 3
    rate: 100/s
    time_limit: 6s
    final_wait: 1s
    checker: set-full
YAML
  run bash -c 'cd "$RUN" && "$CTHULHU" test; s=$?; "$CTHULHU" destroy >/dev/null; exit $s'
  echo "$output"
  [ "$status" -eq 2 ]
  results="$RUN/cthulhu-fixture/runs/latest/results.json"
  [ "$(jq -r .valid "$results")" = false ]
  [ "$(jq -r .checker.model "$results")" = set-full ]
  lost=$(jq -r .checker.lostCount "$results")
  [ "$lost" -gt 0 ]
  [ "$(jq -r '.checker.lost | length' "$results")" -gt 0 ]
  # Fewer lost than acknowledged: the saved ones survived the kill.
  [ "$lost" -lt "$(jq -r .counts.add.ok "$results")" ]
  grep -q 'id="explanation">Lost: ' "$RUN/cthulhu-fixture/runs/latest/report.html"
}

@test "destroy leaves no process, namespace, link, rule or registry record" {
  pids=$(cat "$FIXTURE"/[0-9]*/pid.txt)
  [ "$(wc -w <<<"$pids")" -eq 5 ]
  (cd "$WORK" && "$CTHULHU" destroy)
  [ ! -e "$FIXTURE" ]
  for pid in $pids; do
    # Gone, or a zombie where PID 1 reaps no orphans (nothing runs).
    [ ! -e "/proc/$pid" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")" = Z ]
  done
  h=$(printf %s "$NAME" | sha256sum | cut -c1-8)
  ! ip netns list | grep -q "cth-$h"
  ! ip -o link | grep -Eq "cth-$h|v$h"
  ! iptables -w -S FORWARD | grep -q "cthulhu:$NAME\""
  ! "$CTHULHU" status --fixture "$FIXTURE" >/dev/null 2>&1
}

#!/usr/bin/env bats
# Membership changes on a real system: an etcd cluster (Debian's
# etcd-server 3.4, manifests/etcd-membership.yaml) grows 3 → 5 and shrinks
# 5 → 3 by `apply` with a changed count, each new member added with
# `etcdctl member add` before it starts and each removed one taken out with
# `etcdctl member remove` before it goes, while a client keeps writing. A
# join that fails leaves the fixture as it was, and the next apply repairs
# it. Host processes in network namespaces: CTHULHU_BATS_TARGET=namespaces,
# root.

load helpers
load etcd-helpers
export ETCD_COMMAND_TIMEOUT=3s

setup_file() {
  if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "etcd-membership.bats needs etcd and etcdctl: apt install etcd-server etcd-client" >&3
    return 1
  fi
  if [ "$CTHULHU_BATS_TARGET" != namespaces ]; then
    echo "etcd-membership.bats runs etcd as host processes in network namespaces: CTHULHU_BATS_TARGET=namespaces (root)" >&3
    return 1
  fi
  use_manifest etcd-membership.yaml
  wait_until 30 healthy i001 i002 i003
}

teardown_file() {
  stop_fixture
}


# healthy MEMBER…: each member answers a linearizable health check.
healthy() {
  local n
  for n in "$@"; do etcdctl_at "$n" endpoint health >/dev/null || return 1; done
}

# members: the names in etcd's member list (asked of i001), sorted, on one
# line; a member added and not yet started has no name and shows as "-".
members() {
  etcdctl_at i001 member list | awk -F', ' '{ print ($3 == "" ? "-" : $3) }' | sort | paste -sd' '
}

# count N: the group's count in the fixture's manifest becomes N.
count() { sed -i "s/^    count: .*/    count: $1/" "$WORK/cthulhu.yaml"; }

# writer: puts k=1, 2, 3, … through i001 until $STOP exists; each
# acknowledged value is appended to $ACKED.
writer() {
  local i=0
  while [ ! -e "$STOP" ]; do
    i=$((i + 1))
    etcdctl_at i001 put k "$i" >/dev/null 2>&1 && echo "$i" >>"$ACKED"
  done
}

acked() { [ -s "$ACKED" ] && wc -l <"$ACKED" || echo 0; }
more_acked_than() { [ "$(acked)" -gt "$1" ]; }

# plan_steps: the step lines of `cthulhu plan`, as "TARGET ACTION".
plan_steps() { (cd "$WORK" && "$CTHULHU" plan) | awk '/^  [-+~]/ { print $2, $3 }'; }

@test "apply grows the cluster 3 -> 5: each member joins before it starts, one at a time, writes committing throughout" {
  export STOP="$BATS_TEST_TMPDIR/stop" ACKED="$BATS_TEST_TMPDIR/acked"
  [ "$(members)" = "i001 i002 i003" ]
  writer 3>&- &
  pid=$!
  wait_until 20 more_acked_than 3
  count 5
  run plan_steps
  echo "$output"
  [ "$output" = "$(printf '%s\n' 'member:i004 join' 'instance:i004 create' 'member:i005 join' 'instance:i005 create')" ]
  before=$(acked)
  (cd "$WORK" && "$CTHULHU" apply)
  [ "$(members)" = "i001 i002 i003 i004 i005" ]
  healthy i001 i002 i003 i004 i005
  # The new members joined an existing cluster as it was when they did.
  ip1=$(readlink "$FIXTURE/i001")
  grep -qx 'initial-cluster-state: existing' "$FIXTURE/i004/bindmounts/etc/etcd.yaml"
  [ "$(grep '^initial-cluster:' "$FIXTURE/i004/bindmounts/etc/etcd.yaml" | tr , '\n' | grep -c "=http://")" -eq 4 ]
  [ "$(grep '^initial-cluster:' "$FIXTURE/i005/bindmounts/etc/etcd.yaml" | tr , '\n' | grep -c "=http://")" -eq 5 ]
  grep -qx 'initial-cluster-state: new' "$FIXTURE/i001/bindmounts/etc/etcd.yaml"
  grep -q "i001=http://$ip1:2380" "$FIXTURE/i005/bindmounts/etc/etcd.yaml"
  # Each join is an event that says how it ended.
  jq -r 'select(.kind == "membership") | "\(.targets[0]) \(.outcome)"' "$FIXTURE/events.jsonl" | grep -q '^member:i004 ok: committed through '
  jq -r 'select(.kind == "membership") | "\(.targets[0]) \(.outcome)"' "$FIXTURE/events.jsonl" | grep -q '^member:i005 ok: committed through '
  # Writes went on during the change and still commit; a new member serves
  # a linearizable read of the last one.
  wait_until 20 more_acked_than "$((before + 3))"
  touch "$STOP"
  wait "$pid"
  last=$(tail -n 1 "$ACKED")
  [ "$(etcdctl_at i005 get k --print-value-only)" -ge "$last" ]
  etcdctl_at i004 put grown yes
  [ "$(etcdctl_at i002 get grown --print-value-only)" = yes ]
  run plan_steps
  [ -z "$output" ]
}

@test "apply shrinks the cluster 5 -> 3: each member leaves before it is removed, highest first" {
  export STOP="$BATS_TEST_TMPDIR/stop" ACKED="$BATS_TEST_TMPDIR/acked"
  [ "$(members)" = "i001 i002 i003 i004 i005" ]
  pids=$(cat "$FIXTURE/i004/pid.txt" "$FIXTURE/i005/pid.txt")
  writer 3>&- &
  pid=$!
  wait_until 20 more_acked_than 3
  count 3
  run plan_steps
  echo "$output"
  [ "$output" = "$(printf '%s\n' 'member:i005 leave' 'instance:i005 delete' 'member:i004 leave' 'instance:i004 delete')" ]
  before=$(acked)
  (cd "$WORK" && "$CTHULHU" apply)
  [ "$(members)" = "i001 i002 i003" ]
  [ ! -e "$FIXTURE/i004" ] && [ ! -e "$FIXTURE/i005" ]
  for p in $pids; do
    [ ! -e "/proc/$p" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$p/stat")" = Z ]
  done
  healthy i001 i002 i003
  wait_until 20 more_acked_than "$((before + 3))"
  touch "$STOP"
  wait "$pid"
  jq -r 'select(.kind == "membership" and .action == "leave") | .targets[0]' "$FIXTURE/events.jsonl" | paste -sd' ' | grep -qx 'member:i005 member:i004'
  run plan_steps
  [ -z "$output" ]
}

@test "a join that fails changes nothing, and the next apply repairs it" {
  [ "$(members)" = "i001 i002 i003" ]
  cp "$WORK/cthulhu.yaml" "$BATS_TEST_TMPDIR/good.yaml"
  # etcdctl refuses an unknown subcommand: the join fails on every attempt.
  sed -i -e 's/^        - add$/        - plus/' -e 's/^      attempts: .*/      attempts: 2/' "$WORK/cthulhu.yaml"
  grep -q -- '- plus' "$WORK/cthulhu.yaml"
  count 4
  run bash -c "cd '$WORK' && '$CTHULHU' apply"
  echo "$output"
  [ "$status" -ne 0 ]
  [[ "$output" == *"join of instance i004 (group 'etcd') did not commit after 2 attempt(s)"* ]]
  # No member was added and no i004 started outside its cluster.
  [ "$(members)" = "i001 i002 i003" ]
  [ ! -e "$FIXTURE/i004" ]
  [ "$(jq -r 'keys | join(" ")' "$FIXTURE/spec.json")" = "i001 i002 i003" ]
  # The manifest mended, the next apply joins and starts it.
  cp "$BATS_TEST_TMPDIR/good.yaml" "$WORK/cthulhu.yaml"
  count 4
  run plan_steps
  [ "$output" = "$(printf '%s\n' 'member:i004 join' 'instance:i004 create')" ]
  (cd "$WORK" && "$CTHULHU" apply)
  [ "$(members)" = "i001 i002 i003 i004" ]
  healthy i001 i002 i003 i004
  etcdctl_at i004 put repaired yes
  [ "$(etcdctl_at i001 get repaired --print-value-only)" = yes ]
}

teardown() {
  [ -n "${CHANGES_WORK:-}" ] && (cd "$CHANGES_WORK" && "$CTHULHU" destroy) >/dev/null 2>&1 || true
}

@test "cthulhu test: the nemesis grows and shrinks etcd under kills: changes committed or reported, the history valid, the group back to 3" {
  # A fixture of its own (this file's manifest with a workload and a
  # nemesis added), applied in its own folder and destroyed after. A
  # member is added every 7 s from 2 s (up to 5: then the grow is skipped)
  # and the highest removed every 11 s from 9 s (down to 3), while a random
  # member is killed for 2 s every 10 s from 4 s, which may be one that
  # joined. CTHULHU_MEMBERSHIP_RUN sets the run's length (45s).
  cat >"$BATS_TEST_TMPDIR/extra.yaml" <<YAML
nemesis:
  seed: 3
  faults:
    - { grow: etcd, max: 5, after: 2s, every: 7s }
    - { shrink: etcd, min: 3, after: 9s, every: 11s }
    - { kill: random 1, after: 4s, for: 2s, every: 10s }
workloads:
  appends:
    client: { command: [$REPO/clients/etcd] }
    generator: list-append
    keys: 3
    concurrency: 3
    rate: 30/s
    time_limit: ${CTHULHU_MEMBERSHIP_RUN:-45s}
    final_wait: 2s
    checker: list-append
YAML
  (BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR use_manifest etcd-membership.yaml "\$r $BATS_TEST_TMPDIR/extra.yaml")
  export CHANGES_WORK="$BATS_TEST_TMPDIR/work"
  w=$CHANGES_WORK
  run bash -c "cd '$w' && '$CTHULHU' test"
  echo "$output"
  [ "$status" -eq 0 ]
  run_dir="$w/cthulhu-fixture/runs/latest"
  results="$run_dir/results.json"
  [ "$(jq -r .valid "$results")" = true ]
  [ "$(jq -r .counts.txn.ok "$results")" -gt 20 ]
  # Each change is an operation of the process "nemesis": grow or shrink,
  # the instance and how it reached etcd's member list.
  changes=$(jq -c 'select(.process == "nemesis" and .type != "invoke" and (.f == "grow" or .f == "shrink")) | [.type, .f, .value.instance, .value.outcome] + (if .value.error then [.value.error] else [] end)' "$run_dir/history.jsonl")
  echo "$changes"
  echo "$changes" >"${CTHULHU_MEMBERSHIP_CHANGES:-/dev/null}"
  [ "$(grep -c '^\["ok","\(grow\|shrink\)","i00[0-9]","\(committed\|resolved\)"\]$' <<<"$changes")" -ge 4 ]
  # A change that failed (etcd refused it through every attempt, as it
  # may while a member is down: docs/membership.md) says so, with its
  # error; none is left half-done (below).
  [ "$(grep -vc '^\["ok"' <<<"$changes")" -eq "$(grep -c '^\["info","\(grow\|shrink\)",null,"failed",".' <<<"$changes")" ]
  # None pending: the run's end brought the group back to 3, etcd's members are the
  # fixture's instances, and a plan has nothing to do.
  ip=$(readlink "$w/cthulhu-fixture/i001")
  [ "$(etcdctl --endpoints "http://$ip:2379" --dial-timeout 2s member list | awk -F', ' '{ print $3 }' | sort | paste -sd' ')" = "i001 i002 i003" ]
  [ "$(jq -r 'keys | join(" ")' "$w/cthulhu-fixture/spec.json")" = "i001 i002 i003" ]
  (cd "$w" && "$CTHULHU" plan)
  [ "$(cd "$w" && "$CTHULHU" plan --json | jq '.steps | length')" -eq 0 ]
}

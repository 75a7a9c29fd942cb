#!/usr/bin/env bats
# A nemesis schedule on the quickstart's five cthulhu-demo nodes: partitions
# and latency come and go in the background while clients write and read
# (every call recorded with `cthulhu op`); stopped, it has healed every
# fault it made, all nodes agree on a new write, and the history checks as
# linearizable. Needs partitions: CTHULHU_BATS_TARGET=namespaces (root).

load helpers
load demo-helpers

setup_file() {
  if [ "$CTHULHU_BATS_TARGET" != namespaces ]; then
    echo "demo-nemesis.bats partitions nodes: run it with CTHULHU_BATS_TARGET=namespaces (root)" >&3
    return 1
  fi
  use_manifest quickstart.yaml
  # The schedule is no part of the topology: added after the apply, it changes no plan.
  cat >>"$WORK/cthulhu.yaml" <<'YAML'
nemesis:
  seed: 7
  faults:
    - partition: majority
      after: 1s
      for: 3s
      every: 6s
    - delay: 100ms
      jitter: 30ms
      targets: random 2
      after: 2s
      for: 3s
      every: 6s
YAML
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

teardown_file() {
  [ -n "${FIXTURE:-}" ] && "$FIXTURE/control" nemesis stop >/dev/null 2>&1
  stop_fixture
}

# event ACTION: events.jsonl has an event with this action.
event() { grep -q "\"action\":\"$1\"" "$FIXTURE/events.jsonl"; }

@test "plan shows the schedule and the first draws of its seed, and changes nothing" {
  run "$CTHULHU" plan "$WORK/cthulhu.yaml"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"No changes."* ]]
  [[ "$output" == *"Nemesis (seed 7; "* ]]
  [[ "$output" == *"1. partition majority on all: at 1s for 3s, every 6s until stopped"* ]]
  [[ "$output" == *"2. delay 100ms ±30ms on random 2: at 2s for 3s, every 6s until stopped"* ]]
  [[ "$output" == *"+1s  1.1  partition (majority) {"* ]]
}

@test "partitions and latency come and go while clients write; stopped, every fault is healed and all nodes agree" {
  export HISTORY="$BATS_TEST_TMPDIR/history.jsonl" STOP="$BATS_TEST_TMPDIR/stop"
  first=$("$CTHULHU" plan "$WORK/cthulhu.yaml" | sed -n 's/^ *+1s  1\.1  //p')
  [ -n "$first" ]
  leader=$(one_leader i001 i002 i003 i004 i005)
  op 0 write "$leader" start
  pids=()
  for p in 1 2 3; do
    client "$p" i001 i002 i003 i004 i005 3>&- &
    pids+=($!)
  done
  wait_until 20 more_than 2 ok write
  run "$FIXTURE/control" nemesis start
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "nemesis started (pid "*"seed 7); first: 1.1 $first at "* ]]
  # Two rounds of both faults, each put in force and healed; writes go on.
  n=$(recorded ok write)
  wait_until 40 event "nemesis heal 2.2"
  event "nemesis fault 1.1" && event "nemesis heal 1.1" && event "nemesis fault 1.2" && event "nemesis heal 1.2"
  # The seed drew what plan showed.
  grep '"action":"nemesis fault 1.1"' "$FIXTURE/events.jsonl" | grep -qF "$first"
  wait_until 20 more_than "$((n + 3))" ok write
  run "$FIXTURE/control" nemesis status
  echo "$output"
  [[ "${lines[0]}" == "nemesis running (pid "* ]]
  [[ "$output" == *"Next: "* ]]
  run "$FIXTURE/control" nemesis stop
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == "nemesis stopped"* ]]
  run "$FIXTURE/control" faults
  [ "$output" = "No faults." ]
  # Every fault it made went through the fault commands' path, and was lifted.
  ids=$(grep -o '"action":"\(partition\|delay\) f[0-9]*"' "$FIXTURE/events.jsonl" | grep -o 'f[0-9]*')
  [ "$(wc -w <<<"$ids")" -ge 4 ]
  for id in $ids; do event "lift $id"; done
  # Whole again: one leader, and a new write reaches every node.
  wait_until 20 one_leader i001 i002 i003 i004 i005
  n=$(recorded ok write)
  wait_until 20 more_than "$((n + 2))" ok write
  touch "$STOP"
  wait "${pids[@]}"
  leader=$(one_leader i001 i002 i003 i004 i005)
  value="after-$RANDOM"
  write "$leader" "$value"
  for node in i001 i002 i003 i004 i005; do wait_until 20 has_value "$node" "$value"; done
  run "$CTHULHU" check --model register "$HISTORY"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "$HISTORY: linearizable (register, "* ]]
}

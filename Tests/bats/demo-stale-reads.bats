#!/usr/bin/env bats
# The demo's deliberately unsafe mode (CTHULHU_DEMO_STALE_READS=1: every node
# answers reads from its own state) is caught by `cthulhu check`: a follower
# partitioned away keeps serving the value the majority has since replaced.
# Needs partitions: CTHULHU_BATS_TARGET=namespaces (root).

load helpers
load demo-helpers

setup_file() {
  if [ "$CTHULHU_BATS_TARGET" != namespaces ]; then
    echo "demo-stale-reads.bats partitions a node away: run it with CTHULHU_BATS_TARGET=namespaces (root)" >&3
    return 1
  fi
  use_manifest quickstart.yaml 's/^    stop_timeout: .*/&\n    env: { CTHULHU_DEMO_STALE_READS: "1" }/'
  grep -q CTHULHU_DEMO_STALE_READS "$WORK/cthulhu.yaml"
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

teardown_file() {
  stop_fixture
}

@test "an isolated follower serves a stale value, and the checker says not linearizable" {
  export HISTORY="$FIXTURE/history.jsonl"
  leader=$(one_leader i001 i002 i003 i004 i005)
  follower=$(others "$leader" | head -1)
  op 1 write "$leader" first
  wait_until 10 has_value "$follower" first
  run op 2 read "$follower"
  [ "$status" -eq 0 ] && [ "$output" = first ]
  # shellcheck disable=SC2046
  "$FIXTURE/control" partition "$follower" "$(others "$follower" | paste -sd, -)"
  op 1 write "$leader" second   # four of five: committed
  run op 2 read "$follower"
  [ "$status" -eq 0 ] && [ "$output" = first ]
  run "$FIXTURE/control" check --model register
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "${lines[0]}" == "$HISTORY: not linearizable (register, 4 operations; "* ]]
  [[ "$output" == *'p1 '*'write "second"'*'p2 '*'read → "first"'* ]]
  [ -s "$HISTORY.html" ]
  # Healed, the follower catches up, and a fresh read is right again.
  "$FIXTURE/control" heal
  wait_until 20 has_value "$follower" second
}

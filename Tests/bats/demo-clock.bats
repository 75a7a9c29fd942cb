#!/usr/bin/env bats
# Clock skew on the quickstart's five cthulhu-demo nodes, with `clock_skew:
# true` added to their group (libfaketime preloaded): a node's own wall clock
# (the `clock` of its /admin) moves by the skew while it runs and comes back
# on reset, and with the nodes' clocks minutes apart the cluster still elects
# one leader, replaces a stopped one and commits (its Raft timers run on the
# monotonic clock, which the skew leaves alone). Needs libfaketime.

load helpers
load demo-helpers

setup_file() {
  use_manifest quickstart.yaml 's/^    stop_timeout: 2s$/    stop_timeout: 2s\n    clock_skew: true/'
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

teardown_file() {
  stop_fixture
}

# skew_of NODE: the node's wall clock minus this machine's, in whole seconds.
skew_of() {
  local c now
  c=$(admin "$1" | field clock) || return 1
  now=$(date +%s.%N)
  awk -v c="$c" -v n="$now" 'BEGIN { d = c - n; printf "%d\n", (d >= 0 ? d + 0.5 : d - 0.5) }'
}

# skewed NODE SECONDS: the node's clock is SECONDS (±1) from this machine's.
skewed() {
  local s
  s=$(skew_of "$1") || return 1
  [ "$s" -ge $(($2 - 1)) ] && [ "$s" -le $(($2 + 1)) ]
}

@test "clock skew moves a node's own clock while it runs; reset sets it back" {
  skewed i002 0
  "$FIXTURE/control" clock skew +1h i002
  wait_until 5 skewed i002 3600
  skewed i001 0
  "$FIXTURE/i003/control" clock skew -90s
  wait_until 5 skewed i003 -90
  run "$FIXTURE/control" faults
  [[ "$output" == *"clock +1h i002"* ]]
  [[ "$output" == *"clock -90s i003"* ]]
  "$FIXTURE/control" clock reset i002
  wait_until 5 skewed i002 0
  skewed i003 -90
  "$FIXTURE/control" clock reset
  wait_until 5 skewed i003 0
  grep -q '"action":"clock f1"' "$FIXTURE/events.jsonl"
  grep -q '"action":"clock reset"' "$FIXTURE/events.jsonl"
}

@test "with the nodes' clocks minutes apart, a stopped leader is replaced and writes commit" {
  "$FIXTURE/control" clock skew +2h i001
  "$FIXTURE/control" clock skew -90m i002
  "$FIXTURE/control" clock skew +45s i003
  "$FIXTURE/control" clock skew -7s i004
  wait_until 5 skewed i002 -5400
  old=$(wait_for 20 one_leader i001 i002 i003 i004 i005)
  "$FIXTURE/$old/control" stop
  # shellcheck disable=SC2046
  new=$(wait_for 20 one_leader $(others "$old"))
  [ -n "$new" ] && [ "$new" != "$old" ]
  value="skewed-$RANDOM"
  write "$new" "$value"
  for n in $(others "$old"); do wait_until 10 has_value "$n" "$value"; done
  "$FIXTURE/$old/control" start
  wait_until 20 has_value "$old" "$value"
  wait_until 20 one_leader i001 i002 i003 i004 i005
  "$FIXTURE/control" heal
  for n in i001 i002 i003 i004 i005; do wait_until 5 skewed "$n" 0; done
}

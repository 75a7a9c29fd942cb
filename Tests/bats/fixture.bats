#!/usr/bin/env bats
# A fixture driven the way the original tool's users drove theirs: through
# <fixture>/control, <fixture>/<ip>/control, the iNNN links and the files.

load helpers

setup_file() {
  start_fixture
  wait_until 20 reaches i001 i002
  wait_until 20 reaches i002 i003
  wait_until 20 reaches i003 i001
}

teardown_file() {
  stop_fixture
}

teardown() {
  "$FIXTURE/control" reset >/dev/null
}

@test "the fixture folder has the original tool's shape" {
  for n in i001 i002 i003; do
    ip=$(readlink "$FIXTURE/$n")
    [ -x "$FIXTURE/$ip/control" ]
    grep -q "\"self\": \"$ip\"" "$FIXTURE/$ip/bindmounts/etc/config.json"
    [ "$(cat "$FIXTURE/$ip/pid.txt")" -gt 0 ]
  done
  grep -q '"i001"' "$FIXTURE/spec.json"
  run "$FIXTURE/control" help
  [ "$status" -eq 0 ]
  [[ "$output" == *partition* ]]
}

@test "a partitioned node stops seeing its peers and sees them again after heal" {
  run "$FIXTURE/control" partition i001 i002,i003
  [ "$status" -eq 0 ]
  [[ "$output" == *"partition {i001} | {i002,i003}"* ]]
  cut_off i001 i002
  cut_off i003 i001
  reaches i002 i003
  "$FIXTURE/control" status | grep -Eq '^i001 .* f1 '
  "$FIXTURE/control" heal
  wait_until 10 reaches i001 i002
  reaches i003 i001
  run "$FIXTURE/control" faults
  [ "$output" = "No faults." ]
}

@test "reset brings back a partition, a killed and a paused node and an edited config" {
  ip1=$(readlink "$FIXTURE/i001")
  config=$(cat "$FIXTURE/$ip1/bindmounts/etc/config.json")
  "$FIXTURE/control" partition i001 i002,i003
  "$FIXTURE/i002/control" kill
  "$FIXTURE/i003/control" pause
  echo edited >"$FIXTURE/$ip1/bindmounts/etc/config.json"
  wait_until 10 sh -c "\"$FIXTURE/control\" status | grep -Eq '^i002 .* exited'"
  "$FIXTURE/control" status | grep -Eq '^i003 .* paused'
  run "$FIXTURE/control" reset
  [ "$status" -eq 0 ]
  [[ "$output" == *"Healed f"*"partition {i001} | {i002,i003}"* ]]
  [[ "$output" == *"Reset complete"*"1 fault(s) healed"* ]]
  run "$FIXTURE/control" faults
  [ "$output" = "No faults." ]
  for n in i001 i002 i003; do "$FIXTURE/control" status | grep -Eq "^$n .* running"; done
  [ "$(cat "$FIXTURE/$ip1/bindmounts/etc/config.json")" = "$config" ]
  wait_until 10 reaches i001 i002
  wait_until 10 reaches i002 i003
  reaches i003 i001
  run "$FIXTURE/control" reset
  [ "$output" = "Nothing to reset: the fixture is as applied." ]
}

@test "reset --data empties var and starts every node again, same names and addresses" {
  ip=$(readlink "$FIXTURE/i002")
  echo state >"$FIXTURE/$ip/bindmounts/var/data.db"
  run "$FIXTURE/control" reset --data
  [ "$status" -eq 0 ]
  [[ "$output" == *"Emptied var: i001 i002 i003"* ]]
  [ ! -e "$FIXTURE/$ip/bindmounts/var/data.db" ]
  [ -f "$FIXTURE/$ip/bindmounts/var/i002.log" ]
  [ "$(readlink "$FIXTURE/i002")" = "$ip" ]
  wait_until 10 reaches i001 i002
}

@test "a killed node restarts with its config and logs intact" {
  ip=$(readlink "$FIXTURE/i002")
  config=$(cat "$FIXTURE/$ip/bindmounts/etc/config.json")
  reaches i001 i002   # leaves a request line in i002's log
  log_before=$(log_lines i002)
  [ "$log_before" -gt 0 ]
  "$FIXTURE/$ip/control" kill
  wait_until 10 sh -c "\"$FIXTURE/control\" status | grep -Eq '^i002 .* exited'"
  cut_off i001 i002
  "$FIXTURE/$ip/control" start
  wait_until 10 reaches i001 i002
  [ "$(cat "$FIXTURE/$ip/bindmounts/etc/config.json")" = "$config" ]
  [ "$(log_lines i002)" -gt "$log_before" ]
}

@test "an isolated node stays isolated across a restart" {
  "$FIXTURE/i003/control" isolate
  cut_off i001 i003
  "$FIXTURE/i003/control" restart
  cut_off i001 i003
  cut_off i003 i002
  "$FIXTURE/i003/control" heal
  wait_until 10 reaches i001 i003
}

@test "a fault with --for lifts itself" {
  # Long enough for the check below on a loaded machine (an exec can take a second or two).
  run "$FIXTURE/control" isolate i002 --for 5s
  [ "$status" -eq 0 ]
  [[ "$output" == *until* ]]
  cut_off i001 i002
  # No heal: the reaper started by the command lifts it, then records it
  # (after its cleanup: on the helper path, the helper's removal).
  wait_until 15 reaches i001 i002
  wait_until 10 expired
}

# expired: the fixture's events record a fault that lifted itself.
expired() {
  "$CTHULHU" events --fixture "$FIXTURE" | grep -q "expire"
}

@test "stop and start are idempotent, as in the original tool" {
  "$FIXTURE/control" stop
  run "$FIXTURE/control" stop
  [ "$status" -eq 0 ]
  "$FIXTURE/control" start
  run "$FIXTURE/control" start
  [ "$status" -eq 0 ]
  [[ "$output" == "Nothing to do." ]]
  wait_until 10 reaches i001 i002
}

@test "bad verbs and targets are one clear line" {
  run "$FIXTURE/control" bogus
  [ "$status" -ne 0 ]
  [[ "$output" == *"unknown verb 'bogus'"* ]]
  run "$FIXTURE/control" isolate i009
  [ "$status" -eq 1 ]
  [[ "$output" == *"'i009' matches no instance"* ]]
}

#!/usr/bin/env bats
# The classic test of a consensus system, on the quickstart (five nodes of
# cthulhu-demo as host processes): find the one leader, stop it, see another
# elected, partition a minority away, heal. CTHULHU_BATS_TARGET=namespaces
# (root) gives each node its own network namespace, so partitions work;
# loopback must refuse them and change nothing.

load helpers

setup_file() {
  use_manifest quickstart.yaml
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

teardown_file() {
  stop_fixture
}

teardown() {
  [ -d "$FIXTURE" ] || return 0   # the last test destroys it
  "$FIXTURE/control" heal >/dev/null
  "$FIXTURE/control" start >/dev/null
  wait_until 20 one_leader i001 i002 i003 i004 i005
}

# admin NODE: the node's /admin JSON (role, term, leader, value).
admin() {
  curl -fsS -m 1 "http://$(readlink "$FIXTURE/$1"):8080/admin"
}

field() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\).*/\\1/p"; }

# one_leader NODE…: exactly one of the nodes says it leads, and all of them
# name it as their leader. Prints it.
one_leader() {
  local n leaders="" named=""
  for n in "$@"; do
    a=$(admin "$n") || return 1
    [ "$(field role <<<"$a")" = leader ] && leaders="$leaders $n"
    named="$named $(field leader <<<"$a")"
  done
  [ "$(wc -w <<<"$leaders")" -eq 1 ] || return 1
  for n in $named; do [ "$n" = "${leaders# }" ] || return 1; done
  echo "${leaders# }"
}

# write NODE VALUE: POST the value to the node (200 only on a leader that a
# majority follows).
write() {
  curl -fsS -m 5 --data-binary "$2" "http://$(readlink "$FIXTURE/$1"):8080/value"
}

# has_value NODE VALUE: the node's committed value.
has_value() {
  [ "$(curl -fsS -m 1 "http://$(readlink "$FIXTURE/$1"):8080/value")" = "$2" ]
}

others() {
  local n
  for n in i001 i002 i003 i004 i005; do [ "$n" = "$1" ] || [ "$n" = "${2:-}" ] || echo "$n"; done
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
  new=$(wait_until 20 one_leader $(others "$old") && one_leader $(others "$old"))
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
  new=$(wait_until 20 one_leader ${majority//,/ } && one_leader ${majority//,/ })
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

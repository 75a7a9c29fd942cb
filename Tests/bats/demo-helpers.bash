# Helpers for the suites on the quickstart's five cthulhu-demo nodes
# (demo.bats, demo-stale-reads.bats): a node's view of the cluster, and
# client calls recorded with `cthulhu op`.

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

# has_value NODE VALUE: the node's own committed value is VALUE (its
# /admin: GET /value asks the leader).
has_value() {
  [ "$(admin "$1" | field value)" = "$2" ]
}

others() {
  local n
  for n in i001 i002 i003 i004 i005; do [ "$n" = "$1" ] || [ "$n" = "${2:-}" ] || echo "$n"; done
}

# op PROCESS read|write NODE [VALUE]: one client call (demo-client) to NODE,
# recorded through the fixture's `control op` into $HISTORY. Exits as the
# call did: 0 done, 3 refused (recorded as fail), else unknown (info).
op() {
  "$FIXTURE/control" op --history "$HISTORY" --process "$1" --f "$2" ${4:+--value "$4"} \
    --fail-codes 3 --timeout 5s -- "$BATS_TEST_DIRNAME/demo-client" "$2" "$(readlink "$FIXTURE/$3"):8080" ${4:+"$4"}
}

# client PROCESS NODE…: until the file $STOP exists, writes a fresh value to
# and reads from the nodes in turn, every call recorded. After a call whose
# outcome is unknown it goes on as a new process (PROCESS + 100): that call
# stays open for ever, and a process has one operation open at a time.
client() {
  local p=$1 i=0 n status
  shift
  while [ ! -e "$STOP" ]; do
    for n in "$@"; do
      i=$((i + 1))
      status=0
      if ((i % 2)); then
        op "$p" write "$n" "w$p-$i" >/dev/null 2>&1 || status=$?
      else
        op "$p" read "$n" >/dev/null 2>&1 || status=$?
      fi
      [ "$status" -eq 0 ] || [ "$status" -eq 3 ] || p=$((p + 100))
    done
  done
}

# recorded TYPE F: how many TYPE (ok, fail, info) completions of F (read,
# write) $HISTORY holds.
recorded() {
  grep -c "\"type\": \"$1\", \"f\": \"$2\"" "$HISTORY" || true
}

# more_than N TYPE F: $HISTORY holds more than N of them.
more_than() { [ "$(recorded "$2" "$3")" -gt "$1" ]; }

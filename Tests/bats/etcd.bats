#!/usr/bin/env bats
# A real system nobody here wrote: a 3-member etcd cluster (Debian's
# etcd-server 3.4) as host processes in network namespaces
# (manifests/etcd.yaml, CTHULHU_BATS_TARGET=namespaces) or in containers of
# an image built here from the same binary (manifests/etcd-docker.yaml,
# scripts/etcd-image.sh, CTHULHU_BATS_TARGET=docker). Clients put and get
# one key through `cthulhu op` while the leader is partitioned away and
# healed; `cthulhu check` finds etcd's
# linearizable gets linearizable, and catches a serializable get
# (--consistency=s) that an isolated member answers from its stale state.
# Needs root and partitions.

load helpers
load etcd-helpers

setup_file() {
  if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
    echo "etcd.bats needs etcd and etcdctl: apt install etcd-server etcd-client" >&3
    return 1
  fi
  case "$CTHULHU_BATS_TARGET" in
    namespaces) use_manifest etcd.yaml ;;
    docker)
      # Containers of an image built here from the same etcd binary.
      "$REPO/scripts/etcd-image.sh" >/dev/null
      use_manifest etcd-docker.yaml
      ;;
    *)
      echo "etcd.bats partitions members away: run it with CTHULHU_BATS_TARGET=namespaces or docker (root)" >&3
      return 1
      ;;
  esac
  wait_until 30 leader
}

teardown_file() {
  stop_fixture
}

teardown() {
  [ -d "$FIXTURE" ] || return 0
  "$FIXTURE/control" heal >/dev/null
  wait_until 30 leader
}


# leader [MEMBER…]: exactly one of the members (default all three) says it
# is the leader, and every one of them answers. Prints it.
leader() {
  local members=("$@") n found="" status
  [ $# -gt 0 ] || members=(i001 i002 i003)
  for n in "${members[@]}"; do
    status=$(etcdctl_at "$n" endpoint status -w simple) || return 1
    [ "$(cut -d, -f5 <<<"$status" | tr -d ' ')" = true ] && found="$found $n"
  done
  [ "$(wc -w <<<"$found")" -eq 1 ] && echo "${found# }"
}

others() {
  local n
  for n in i001 i002 i003; do [ "$n" = "$1" ] || echo "$n"; done
}

# appends_fixture SEED FAULTS [SED-EDIT…]: a fixture of this test's own ($w:
# this file's manifest, etcd-docker.yaml on docker, with the edits) with a
# nemesis of FAULTS (lines of its `faults:` list) and list-append
# transactions through clients/etcd added; applied.
appends_fixture() {
  local seed=$1 faults=$2 manifest=etcd.yaml
  shift 2
  cat >"$BATS_TEST_TMPDIR/extra.yaml" <<YAML
nemesis:
  seed: $seed
  faults:
$faults
workloads:
  appends:
    client: { command: [$REPO/clients/etcd] }
    generator: list-append
    keys: 3
    concurrency: 3
    rate: 40/s
    time_limit: 9s
    final_wait: 3s
    checker: list-append
YAML
  [ "$CTHULHU_BATS_TARGET" = docker ] && manifest=etcd-docker.yaml
  (BATS_FILE_TMPDIR=$BATS_TEST_TMPDIR use_manifest "$manifest" "\$r $BATS_TEST_TMPDIR/extra.yaml" "$@")
  w="$BATS_TEST_TMPDIR/work"
  run_dir="$w/cthulhu-fixture/runs/latest"
}

# run_appends: `cthulhu test` in $w, then destroy (always); $status is the test's.
run_appends() {
  run bash -c "cd '$w' && '$CTHULHU' test; s=\$?; '$CTHULHU' destroy >/dev/null; exit \$s"
  echo "$output"
}

# put PROCESS MEMBER KEY VALUE, get PROCESS MEMBER KEY [etcdctl get flags…]:
# one call, recorded in $HISTORY. A put that errs or times out may have
# happened (info); a get that errs did nothing (fail).
put() {
  "$FIXTURE/control" op --history "$HISTORY" --process "$1" --f put --key "$3" --value "$4" --timeout 6s -- \
    etcdctl --endpoints "$(url "$2")" --dial-timeout 1s --command-timeout 2s put "$3" "$4"
}
get() {
  local p=$1 n=$2 k=$3
  shift 3
  "$FIXTURE/control" op --history "$HISTORY" --process "$p" --f get --key "$k" --fail-codes 1,2 --timeout 6s -- \
    etcdctl --endpoints "$(url "$n")" --dial-timeout 1s --command-timeout 2s get "$k" --print-value-only "$@"
}

# client PROCESS KEY: until the file $STOP exists, puts fresh values and gets
# (linearizable) on the three members in turn; after a put of unknown
# outcome it goes on as a new process (PROCESS + 100).
client() {
  local p=$1 k=$2 i=0 n status
  while [ ! -e "$STOP" ]; do
    for n in i001 i002 i003; do
      i=$((i + 1))
      status=0
      if ((i % 2)); then
        put "$p" "$n" "$k" "v$p-$i" >/dev/null 2>&1 || status=$?
        [ "$status" -eq 0 ] || p=$((p + 100))
      else
        get "$p" "$n" "$k" >/dev/null 2>&1 || status=$?
        case $status in 0 | 1 | 2) ;; *) p=$((p + 100)) ;; esac
      fi
    done
  done
}

recorded() { grep -c "\"type\": \"$1\", \"f\": \"$2\"" "$HISTORY" || true; }
more_than() { [ "$(recorded "$2" "$3")" -gt "$1" ]; }

@test "puts and linearizable gets while the leader is partitioned away and healed check as linearizable" {
  export HISTORY="$BATS_TEST_TMPDIR/history.jsonl" STOP="$BATS_TEST_TMPDIR/stop"
  old=$(leader)
  pids=()
  for p in 1 2 3; do
    client "$p" k1 3>&- &
    pids+=($!)
  done
  wait_until 20 more_than 3 ok put
  # shellcheck disable=SC2046
  "$FIXTURE/control" partition "$old" "$(others "$old" | paste -sd, -)"
  # shellcheck disable=SC2046
  new=$(wait_for 30 leader $(others "$old"))
  [ -n "$new" ] && [ "$new" != "$old" ]
  n=$(recorded ok put)
  wait_until 20 more_than "$((n + 3))" ok put
  # The cut-off old leader cannot answer a linearizable get.
  run get 90 "$old" k1
  [ "$status" -ne 0 ]
  "$FIXTURE/control" heal
  wait_until 30 leader
  n=$(recorded ok put)
  wait_until 20 more_than "$((n + 3))" ok put
  touch "$STOP"
  wait "${pids[@]}"
  [ "$(recorded ok get)" -gt 5 ]
  grep -q '"type": "ok", "f": "get", "key": "k1", "value": "v' "$HISTORY"
  run "$CTHULHU" check --model kv "$HISTORY"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "$HISTORY: linearizable (kv, "* ]]
}

@test "a serializable get from an isolated member goes stale, and the checker says not linearizable" {
  export HISTORY="$BATS_TEST_TMPDIR/history.jsonl"
  lead=$(leader)
  member=$(others "$lead" | head -1)
  put 1 "$lead" k2 first
  wait_until 10 sh -c "[ \"\$(etcdctl --endpoints $(url "$member") get k2 --print-value-only --consistency=s)\" = first ]"
  # shellcheck disable=SC2046
  "$FIXTURE/control" partition "$member" "$(others "$member" | paste -sd, -)"
  put 1 "$lead" k2 second   # two of three: committed
  run get 2 "$member" k2 --consistency=s
  [ "$status" -eq 0 ] && [ "$output" = first ]
  # etcd's default, a linearizable get, refuses there instead.
  run get 3 "$member" k2
  [ "$status" -ne 0 ]
  run "$CTHULHU" check --model kv "$HISTORY"
  echo "$output"
  [ "$status" -eq 2 ]
  [[ "${lines[0]}" == "$HISTORY: not linearizable (kv, "* ]]
  [[ "$output" == *'on key "k2"'*'put "second"'*'get → "first"'* ]]
  [ -s "$HISTORY.html" ]
}

# appends FIRST LAST: list-append transactions on key 1, one a line, for clients/etcd.
appends() {
  local i
  for ((i = $1; i <= $2; i++)); do
    echo "{\"f\": \"txn\", \"value\": [[\"append\", 1, $i], [\"r\", 1, null]]}"
    sleep 0.02
  done
}

# register_session: a read, write, compare-and-set sequence on a fresh key
# through clients/etcd into $BATS_TEST_TMPDIR/reg.out; fails when etcd
# answered with a transient error or not within the client's timeout (a
# leader change, or a member catching up after the last test's heal), so the
# caller tries again on a fresh key.
register_session() {
  local k="reg-$RANDOM"
  printf '%s\n' '{"f": "read", "key": "'$k'"}' '{"f": "write", "key": "'$k'", "value": 5}' '{"f": "read", "key": "'$k'"}' \
    '{"f": "cas", "key": "'$k'", "value": [5, 7]}' '{"f": "cas", "key": "'$k'", "value": [5, 9]}' '{"f": "read", "key": "'$k'"}' '{"f": "add", "value": 1}' |
    CTHULHU_SPEC="$FIXTURE/spec.json" CTHULHU_PROCESS=1 "$REPO/clients/etcd" >"$BATS_TEST_TMPDIR/reg.out"
  ! grep -q -e etcdserver -e 'no answer within' "$BATS_TEST_TMPDIR/reg.out"
}

@test "clients/etcd: a register through the JSON gateway (read, write, compare-and-set)" {
  wait_until 30 register_session
  out=$(cat "$BATS_TEST_TMPDIR/reg.out")
  echo "$out"
  [ "$(sed -n 1p <<<"$out")" = '{"type": "ok", "value": null}' ]
  [ "$(sed -n 2p <<<"$out")" = '{"type": "ok", "value": 5}' ]
  [ "$(sed -n 3p <<<"$out")" = '{"type": "ok", "value": 5}' ]
  [ "$(sed -n 4p <<<"$out")" = '{"type": "ok", "value": [5, 7]}' ]
  [ "$(sed -n 5p <<<"$out")" = '{"type": "fail", "error": "the value was not 5"}' ]
  [ "$(sed -n 6p <<<"$out")" = '{"type": "ok", "value": 7}' ]
  [[ "$(sed -n 7p <<<"$out")" == '{"type": "fail", "error": "this etcd client has no '* ]]
}

@test "clients/etcd: list-append transactions through the JSON gateway keep every acknowledged append across a partition" {
  old=$(leader)
  pids=()
  for p in 0 1 2; do
    # Worker process p talks to member p mod 3.
    (appends $((p * 1000 + 1)) $((p * 1000 + 120)) |
      CTHULHU_SPEC="$FIXTURE/spec.json" CTHULHU_PROCESS=$p "$REPO/clients/etcd" >"$BATS_TEST_TMPDIR/c$p.out" 2>"$BATS_TEST_TMPDIR/c$p.err") 3>&- &
    pids+=($!)
  done
  wait_until 20 grep -q '"type": "ok"' "$BATS_TEST_TMPDIR/c0.out" || { cat "$BATS_TEST_TMPDIR"/c*.err; false; }
  # shellcheck disable=SC2046
  "$FIXTURE/control" partition "$old" "$(others "$old" | paste -sd, -)"
  sleep 2
  "$FIXTURE/control" heal
  wait "${pids[@]}"
  cat "$BATS_TEST_TMPDIR"/c*.out >"$BATS_TEST_TMPDIR/all.out"
  # One answer per request, each ok, fail or info.
  [ "$(wc -l <"$BATS_TEST_TMPDIR/all.out")" -eq 360 ]
  [ "$(jq -r .type "$BATS_TEST_TMPDIR/all.out" | grep -cv '^ok$\|^fail$\|^info$')" -eq 0 ]
  # The member cut off with the old leader could not commit: some answers there were not ok.
  [ "$(jq -r .type "$BATS_TEST_TMPDIR/c$((10#${old#i} - 1)).out" | grep -cv '^ok$')" -gt 0 ]
  wait_until 30 leader
  final=$(echo '{"f": "txn", "value": [["r", 1, null]]}' | CTHULHU_SPEC="$FIXTURE/spec.json" "$REPO/clients/etcd" | jq -c '.value[0][2]')
  # Every acknowledged append is in the final list, once.
  # (comm wants both sides in its own collating order: plain sort, not -n;
  # appends of unknown outcome that took effect are in the final list only.)
  acked=$(jq -c 'select(.type == "ok") | .value[0][2]' "$BATS_TEST_TMPDIR/all.out" | sort)
  [ "$(wc -l <<<"$acked")" -gt 100 ]
  missing=$(comm -23 <(echo "$acked") <(jq -c '.[]' <<<"$final" | sort))
  [ -z "$missing" ]
  [ "$(jq 'length' <<<"$final")" -eq "$(jq 'unique | length' <<<"$final")" ]
  # Each ok read saw its own append last.
  [ "$(jq -c 'select(.type == "ok") | select(.value[1][2][-1] != .value[0][2])' "$BATS_TEST_TMPDIR/all.out" | wc -l)" -eq 0 ]
}

@test "cthulhu test: list-append transactions through clients/etcd under partitions and kills check valid, the nemesis in the history" {
  # A fixture of its own (this file's copy of the manifest, with a workload
  # and a nemesis added), applied in its own folder and destroyed after.
  # A member killed at 1 s and 5 s (restarted 2 s later), a majority cut
  # from the third member at 3.5 s and 7.5 s (for 1 s): one at a time.
  appends_fixture 1 "    - kill: random 1
      after: 1s
      for: 2s
      every: 4s
    - partition: majority
      after: 3500ms
      for: 1s
      every: 4s"
  run_appends
  [ "$status" -eq 0 ]
  results="$run_dir/results.json"
  [ "$(jq -r .valid "$results")" = true ]
  [ "$(jq -r .checker.model "$results")" = list-append ]
  [ "$(jq -r .counts.txn.ok "$results")" -gt 20 ]
  # The nemesis's steps are operations of the process "nemesis" in the
  # history: both kinds of fault took effect and were healed, and the run's
  # last heal ended it.
  nemesis=$(jq -c 'select(.process == "nemesis") | [.type, .f, .value.label]' "$run_dir/history.jsonl")
  echo "$nemesis"
  grep -qx '\["ok","kill","1.1"\]' <<<"$nemesis"
  grep -qx '\["ok","partition","2.1"\]' <<<"$nemesis"
  grep -qx '\["ok","heal","1.1"\]' <<<"$nemesis"
  grep -qx '\["ok","heal","2.1"\]' <<<"$nemesis"
  [ "$(tail -n 1 <<<"$nemesis")" = '["ok","heal","stop"]' ]
  [ "$(grep -c '^\["invoke"' <<<"$nemesis")" -eq "$(grep -vc '^\["invoke"' <<<"$nemesis")" ]
  # Each fault that took effect is one period of results.json.
  [ "$(jq -r '.faults | length' "$results")" -eq "$(grep -c '^\["ok","\(kill\|partition\)"' <<<"$nemesis")" ]
  [ "$(jq -r '.faults | length' "$results")" -ge 3 ]
}

@test "cthulhu test: etcd crashed whole, its data under the disk layer, loses no acknowledged append" {
  # Every member's data-dir in a mount with faults; the nemesis crashes all
  # three at once (SIGKILL, then what each did not fsync is lost) at 1 s and
  # 5 s, and starts them 2 s later. etcd syncs its WAL before it answers.
  [ "$(id -u)" = 0 ] && [ -e /dev/fuse ] || fail "the disk layer needs root and /dev/fuse"
  appends_fixture 2 "    - crash: all
      after: 1s
      for: 2s
      every: 4s" 's|^    templates:|    mounts: { etc: /opt/app/etc, var: { path: /opt/app/var, faults: true } }\n&|'
  grep -q 'faults: true' "$w/cthulhu.yaml"
  # etcd makes its data-dir and member/ folders without an fsync of their
  # parents, so a crash in its first seconds would lose all of it (what
  # the kernel writes back soon after): `disk sync` stands for that
  # write-back, once the members are up.
  (cd "$w" && "$CTHULHU" disk sync all)
  run_appends
  [ "$status" -eq 0 ]
  [ "$(jq -r .valid "$run_dir/results.json")" = true ]
  [ "$(jq -r .counts.txn.ok "$run_dir/results.json")" -gt 20 ]
  # Both crashes took effect, each with what it rolled back.
  [ "$(jq -c 'select(.process == "nemesis" and .type == "ok" and .f == "crash")' "$run_dir/history.jsonl" | wc -l)" -eq 2 ]
  ! grep -q " $w/.* fuse.cthulhu " /proc/self/mountinfo
}

@test "destroy leaves no etcd process" {
  pids=$(cat "$FIXTURE"/[0-9]*/pid.txt)
  [ "$(wc -w <<<"$pids")" -eq 3 ]
  (cd "$WORK" && "$CTHULHU" destroy)
  [ ! -e "$FIXTURE" ]
  for pid in $pids; do
    [ ! -e "/proc/$pid" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$pid/stat")" = Z ]
  done
}

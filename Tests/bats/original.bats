#!/usr/bin/env bats
# A test written the way the original tool's users wrote theirs, run against
# cthulhu unchanged: the fixture's `control start`, host ports read from
# spec.json by instance name (`jq -r .i001.port`), a request to that port,
# an instance's `control stop`, and the fixture's `control stop`, which
# stops the fixture's containers and nothing else on the engine.
# Docker only (published host ports); needs jq and curl.

load helpers

setup_file() {
  [ "$CTHULHU_BATS_TARGET" = docker ] || skip "the original's spec.json ports are published host ports: docker only"
  export WORK="$BATS_FILE_TMPDIR/work"
  export NAME="orig-$$-$RANDOM"
  mkdir -p "$WORK"
  cat >"$WORK/cthulhu.yaml" <<YAML
fixture: $NAME
groups:
  web:
    image: cthulhu-test:latest
    count: 2
    command: ["busybox", "sh", "-c", "echo \"hello from \$CTHULHU_NAME\" >/www/index.html && exec busybox httpd -f -p 8080 -h /www"]
    mounts: { www: /www }
    ports: ["8080"]
YAML
  (cd "$WORK" && "$CTHULHU" apply) >/dev/null
  export FIXTURE="$WORK/cthulhu-fixture"
  # Someone else's container on the same engine.
  export BYSTANDER="bystander-$$-$RANDOM"
  docker run -d --name "$BYSTANDER" cthulhu-test:latest sleep 600 >/dev/null
}

teardown_file() {
  [ -n "${BYSTANDER:-}" ] && docker rm -f "$BYSTANDER" >/dev/null 2>&1 || true
  [ -n "${WORK:-}" ] && (cd "$WORK" && "$CTHULHU" destroy) >/dev/null || true
}

@test "control start, a port from spec.json, control stop, as the original's users wrote it" {
  cd "$FIXTURE"
  ./control start
  port=$(jq -r .i001.port spec.json)
  [[ "$port" =~ ^[0-9]+$ ]]
  [ "$(jq -r .i001.ip spec.json)" = "$(readlink i001)" ]
  [ "$(jq -r .i002.root spec.json)" = "$FIXTURE/$(readlink i002)" ]
  wait_until 20 curl -sf "http://127.0.0.1:$port/"
  [ "$(curl -sf "http://127.0.0.1:$port/")" = "hello from i001" ]
  port2=$(jq -r .i002.port spec.json)
  [ "$(curl -sf "http://127.0.0.1:$port2/")" = "hello from i002" ]
  # An instance's own control script stops that instance only.
  ./i001/control stop
  ! curl -sf --max-time 2 "http://127.0.0.1:$port/"
  curl -sf "http://127.0.0.1:$port2/"
  # The fixture's control stops the fixture, and leaves the bystander running.
  ./control stop
  ! curl -sf --max-time 2 "http://127.0.0.1:$port2/"
  [ "$(docker inspect -f '{{.State.Running}}' "$BYSTANDER")" = true ]
  [ "$(docker inspect -f '{{.State.Running}}' "$NAME-i001")" = false ]
  # And starts it again, ports and all.
  ./control start
  wait_until 20 curl -sf "http://127.0.0.1:$(jq -r .i001.port spec.json)/"
}

@test "spec.json holds nothing but instances at its top level" {
  [ "$(jq -r 'keys | join(",")' "$FIXTURE/spec.json")" = "i001,i002" ]
  [ "$(jq -r .fixture "$FIXTURE/fixture.json")" = "$NAME" ]
}

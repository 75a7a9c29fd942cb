#!/usr/bin/env bash
# The whole test suite: unit tests, end-to-end tests of the built binary,
# Docker integration tests, the swarm driver's tests on a 3-node swarm
# (scripts/swarm.sh), and the bats suites that drive a fixture through
# its control scripts. As root it first installs what its tests need
# (scripts/deps.sh: the Debian packages of scripts/packages.txt), starts
# dockerd and builds the local images the tests use; not root, it runs
# what it can and the rest skips, each test naming what it lacks.
# Under CI=true a test that cannot run (no engine, no root) fails, never skips.
# At the end it prints how long each part took (docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
times=$(mktemp)
trap 'rm -f "$times"' EXIT
# phase NAME COMMAND…: runs COMMAND and notes its wall time under NAME.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "$name $((SECONDS - start))" >>"$times"
}
report_times() {
  echo "scripts/test.sh: time per part (s; parts marked beside ran beside the others):" >&2
  awk '{ printf "  %-44s %5d\n", $1, $2 }' "$times" >&2
  printf '  %-44s %5d\n' "wall time of the whole run" "$SECONDS" >&2
}
if [ "$(id -u)" = 0 ]; then
  phase deps scripts/deps.sh
  phase dockerd scripts/dockerd-start.sh
  phase images sh -c 'scripts/test-image.sh && scripts/etcd-image.sh'
  # The tests run one at a time: EngineGoneTests may stop and restart dockerd.
  export CTHULHU_TEST_ENGINE_RESTART=${CTHULHU_TEST_ENGINE_RESTART:-1}
  # The swarm driver's tests (SwarmTests) run on a 3-node Docker Swarm of
  # this machine's own, taken down however the run ends. Only those tests
  # talk to it: DOCKER_HOST stays the main engine for every other test.
  # (Without it they skip, and under CI=true fail.)
  trap 'scripts/swarm.sh down; rm -f "$times"' EXIT
  start=$SECONDS
  if swarm=$(scripts/swarm.sh up 3); then
    export CTHULHU_TEST_SWARM=1 CTHULHU_TEST_SWARM_HOST=${swarm#export DOCKER_HOST=}
  elif [ "${CI:-}" = true ]; then
    echo "scripts/swarm.sh up 3 failed: the swarm tests cannot run" >&2
    exit 1
  fi
  echo "swarm-up $((SECONDS - start))" >>"$times"
else
  scripts/deps.sh
fi
# The sources are as .swift-format writes them (`swift format -i -r Sources Tests Fuzz`).
phase format swift format lint --strict -r Sources Tests Fuzz
phase build swift build --build-tests
# What is CPU-bound and touches no fixture of the other tests runs beside
# them, niced so the tests' timings keep their share of the machine: the
# release build and install.bats (root: a mount namespace), in a build
# folder of their own (SwiftPM locks one folder per build), then, under CI,
# a bounded fuzzing run of the manifest loader (Fuzz/, ~60 s).
side_log=$(mktemp)
side_lane() {
  if [ "$(id -u)" = 0 ] && command -v bats >/dev/null; then
    phase beside:bats-install env CTHULHU_BUILD_PATH=.build-release nice -n 19 bats Tests/bats/install.bats
  fi
  if [ "${CI:-}" = true ]; then phase beside:fuzz nice -n 19 scripts/fuzz.sh "${CTHULHU_FUZZ_SECONDS:-60}"; fi
}
side_lane >"$side_log" 2>&1 &
side_pid=$!
# However the run ends: the side lane stopped, the swarm down, the times said.
trap 'kill "$side_pid" 2>/dev/null || true; [ "$(id -u)" = 0 ] && scripts/swarm.sh down; report_times; rm -f "$times" "$side_log"' EXIT
# side_done: waits for the side lane, shows what it printed, fails with it.
side_done() {
  local rc=0
  wait "$side_pid" || rc=$?
  echo "--- install.bats and fuzzing (run beside the tests):" >&2
  cat "$side_log" >&2
  return "$rc"
}
# Every XCTest but EngineGoneTests, which stops and restarts dockerd: it runs
# last, when nothing else uses the engine.
phase xctest swift test --skip-build --skip EngineGoneTests
if ! command -v bats >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "bats is not installed (apt install bats)" >&2; exit 1; fi
  echo "bats is not installed: skipping Tests/bats (apt install bats)" >&2
  phase xctest-engine swift test --skip-build --filter EngineGoneTests
  side_done
  exit 0
fi
export CTHULHU="$PWD/.build/debug/cthulhu"
# The control-script suite on containers, and the demo's consensus suite on
# host processes in loopback mode (no root: partitions are refused there), and
# its clock skew (demo-clock.bats, libfaketime).
phase bats-docker env CTHULHU_BATS_TARGET=docker bats Tests/bats/fixture.bats Tests/bats/original.bats
phase bats-loopback env CTHULHU_BATS_TARGET=loopback bats Tests/bats/demo.bats Tests/bats/demo-clock.bats
# Both again on host processes in network namespaces (root).
if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then echo "the namespaces bats runs need root" >&2; exit 1; fi
  echo "not root: skipping the bats runs in network namespaces" >&2
  phase xctest-engine swift test --skip-build --filter EngineGoneTests
  side_done
  exit 0
fi
# demo-stale-reads.bats, demo-nemesis.bats and etcd.bats (Debian's etcd-server and etcd-client)
# need partitions: host processes in network namespaces (root); so does
# etcd-membership.bats (etcd grown and shrunk by apply).
phase bats-namespaces env CTHULHU_BATS_TARGET=namespaces bats Tests/bats/fixture.bats Tests/bats/demo.bats \
  Tests/bats/demo-stale-reads.bats Tests/bats/demo-nemesis.bats Tests/bats/etcd.bats Tests/bats/etcd-membership.bats
# etcd again on containers of an image built here from the same binary.
phase bats-etcd-docker env CTHULHU_BATS_TARGET=docker bats Tests/bats/etcd.bats
# The demo crashed whole with its state under the disk layer (root, /dev/fuse).
phase bats-crash env CTHULHU_BATS_TARGET=loopback bats Tests/bats/demo-crash.bats
# The control-script suite again, on the swarm (its 3 instances spread over
# the nodes; partitions cut across them).
if [ -n "${CTHULHU_TEST_SWARM_HOST:-}" ]; then
  phase bats-swarm env DOCKER_HOST="$CTHULHU_TEST_SWARM_HOST" CTHULHU_BATS_TARGET=swarm bats Tests/bats/fixture.bats
fi
phase xctest-engine swift test --skip-build --filter EngineGoneTests
side_done

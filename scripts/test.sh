#!/usr/bin/env bash
# The whole test suite: unit tests, end-to-end tests of the built binary,
# Docker integration tests, the swarm driver's tests on a 3-node swarm
# (scripts/swarm.sh), and the bats suites that drive a fixture through
# its control scripts. Starts dockerd and builds the local test image when
# they are missing (root needed for that, and for network faults).
# Under CI=true a test that cannot run (no engine, no root) fails, never skips.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
if [ "$(id -u)" = 0 ]; then
  scripts/dockerd-start.sh
  scripts/test-image.sh
  # The tests run one at a time: EngineGoneTests may stop and restart dockerd.
  export CTHULHU_TEST_ENGINE_RESTART=${CTHULHU_TEST_ENGINE_RESTART:-1}
  # The swarm driver's tests (SwarmTests) run on a 3-node Docker Swarm of
  # this machine's own, taken down however the run ends. Only those tests
  # talk to it: DOCKER_HOST stays the main engine for every other test.
  # (Without it they skip, and under CI=true fail.)
  trap 'scripts/swarm.sh down' EXIT
  if swarm=$(scripts/swarm.sh up 3); then
    export CTHULHU_TEST_SWARM=1 CTHULHU_TEST_SWARM_HOST=${swarm#export DOCKER_HOST=}
  elif [ "${CI:-}" = true ]; then
    echo "scripts/swarm.sh up 3 failed: the swarm tests cannot run" >&2
    exit 1
  fi
fi
# The sources are as .swift-format writes them (`swift format -i -r Sources Tests Fuzz`).
swift format lint --strict -r Sources Tests Fuzz
swift build
swift test
# Under CI, a bounded fuzzing run of the manifest loader (Fuzz/, ~60 s).
if [ "${CI:-}" = true ]; then scripts/fuzz.sh "${CTHULHU_FUZZ_SECONDS:-60}"; fi
if ! command -v bats >/dev/null; then
  if [ "${CI:-}" = true ]; then echo "bats is not installed (apt install bats)" >&2; exit 1; fi
  echo "bats is not installed: skipping Tests/bats (apt install bats)" >&2
  exit 0
fi
export CTHULHU="$PWD/.build/debug/cthulhu"
# The control-script suite on containers, and the demo's consensus suite on
# host processes in loopback mode (no root: partitions are refused there), and
# its clock skew (demo-clock.bats, libfaketime).
CTHULHU_BATS_TARGET=docker bats Tests/bats/fixture.bats Tests/bats/original.bats
CTHULHU_BATS_TARGET=loopback bats Tests/bats/demo.bats Tests/bats/demo-clock.bats
# Both again on host processes in network namespaces (root).
if [ "$(id -u)" != 0 ]; then
  if [ "${CI:-}" = true ]; then echo "the namespaces bats runs need root" >&2; exit 1; fi
  echo "not root: skipping the bats runs in network namespaces" >&2
  exit 0
fi
# demo-stale-reads.bats, demo-nemesis.bats and etcd.bats (Debian's etcd-server and etcd-client)
# need partitions: host processes in network namespaces (root).
CTHULHU_BATS_TARGET=namespaces bats Tests/bats/fixture.bats Tests/bats/demo.bats Tests/bats/demo-stale-reads.bats Tests/bats/demo-nemesis.bats \
  Tests/bats/etcd.bats
# etcd again on containers of an image built here from the same binary.
CTHULHU_BATS_TARGET=docker bats Tests/bats/etcd.bats
# scripts/install.sh into a temporary prefix (a release build), run with the
# Swift toolchain hidden in a mount namespace (root).
bats Tests/bats/install.bats
# The control-script suite again, on the swarm (its 3 instances spread over
# the nodes; partitions cut across them).
if [ -n "${CTHULHU_TEST_SWARM_HOST:-}" ]; then
  DOCKER_HOST=$CTHULHU_TEST_SWARM_HOST CTHULHU_BATS_TARGET=swarm bats Tests/bats/fixture.bats
fi

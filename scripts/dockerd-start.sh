#!/usr/bin/env bash
# Starts a Docker engine if none answers: installs Debian's docker.io when
# dockerd is missing, runs dockerd in the background, waits for its socket.
set -euo pipefail
export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
sock=/var/run/docker.sock
answers() {
  if command -v curl >/dev/null 2>&1; then
    curl -s --max-time 2 --unix-socket "$sock" http://docker/_ping 2>/dev/null | grep -q OK
  else
    timeout 5 docker version >/dev/null 2>&1
  fi
}
if answers; then exit 0; fi
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io iptables >/dev/null
fi
log=${DOCKERD_LOG:-/tmp/dockerd.log}
# A pid file left by a dockerd that is gone makes a new one refuse to start.
# A killed dockerd stays a zombie until its parent (often PID 1, which may
# be slow to reap) collects it: kill -0 still succeeds then, so look at its state.
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$state" ] && [ "${state:0:1}" != Z ]
}
# The same holds for the containerd that the killed dockerd ran (it is
# killed when its parent dies): the new dockerd reuses a containerd whose
# pid file names a process it can signal, zombie or not ("libcontainerd:
# containerd is still running"), waits 15 s for it to answer ("failed to
# start containerd: timeout waiting for containerd to start") and exits. So
# a containerd with no dockerd is given a few seconds to die, and its pid
# file goes once it has. Should dockerd exit before answering for any other
# reason, it is started again, 3 times at most.
containerd_pid=/var/run/docker/containerd/containerd.pid
for attempt in 1 2 3; do
  if [ -f /var/run/docker.pid ] && ! running "$(cat /var/run/docker.pid)"; then
    rm -f /var/run/docker.pid
  fi
  if [ -f "$containerd_pid" ]; then
    for _ in $(seq 1 20); do running "$(cat "$containerd_pid")" || break; sleep 0.25; done
    running "$(cat "$containerd_pid")" || rm -f "$containerd_pid"
  fi
  # (The log of a failed attempt is kept: later attempts append to it.)
  if [ "$attempt" = 1 ]; then nohup dockerd >"$log" 2>&1 & else nohup dockerd >>"$log" 2>&1 & fi
  pid=$!
  for _ in $(seq 1 120); do
    if answers; then echo "dockerd is up (log: $log)"; exit 0; fi
    running "$pid" || break
    sleep 0.5
  done
  if running "$pid"; then
    echo "dockerd did not answer on $sock within 60 s; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  wait "$pid" || true
  echo "dockerd exited before answering (attempt $attempt of 3): $(tail -n 1 "$log")" >&2
done
echo "dockerd exited 3 times before answering; last lines of $log:" >&2
tail -n 30 "$log" >&2
exit 1

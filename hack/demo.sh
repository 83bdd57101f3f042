#!/usr/bin/env bash
# `make demo` / `make demo-down`: runs hack/local-up (the local cluster and
# the examples) in the background, with its state (kubeconfig, logs, pids,
# demo.log) in _output/demo, and stops it again.
#
#   hack/demo.sh up     start, print until the examples are submitted, return
#   hack/demo.sh down   stop every process it started and remove _output/demo
#                       (safe to run twice, or when nothing runs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
state=$root/_output/demo
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$root/_output/tools}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

up() {
  if [ -f "$state/local-up.pid" ] && alive "$(cat "$state/local-up.pid")"; then
    echo "demo: already running (pid $(cat "$state/local-up.pid")); \`make demo-down\` stops it" >&2
    exit 1
  fi
  rm -rf "$state"
  mkdir -p "$state"
  go build -o _output/bin/local-up ./hack/local-up
  start=$SECONDS
  # A session of its own: demo-down can find every process it started even
  # if it died without cleaning up.
  setsid _output/bin/local-up --state-dir "$state" "$@" >"$state/demo.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$state/local-up.pid"
  echo "demo: started (pid $pid); its output goes to $state/demo.log"
  # Follow the log until the last example is submitted.
  while [ ! -f "$state/demo.log" ]; do sleep 0.1; done
  tail -n +1 -f "$state/demo.log" --pid "$pid" &
  tailpid=$!
  trap 'kill $tailpid 2>/dev/null || true' EXIT
  while alive "$pid" && ! grep -q "created Job inference/daily-scoring-manual" "$state/demo.log"; do
    if [ $((SECONDS - start)) -gt 600 ]; then
      echo "demo: not up after 10 minutes; see $state/demo.log" >&2
      exit 1
    fi
    sleep 1
  done
  sleep 3
  kill "$tailpid" 2>/dev/null || true
  if ! alive "$pid"; then
    echo "demo: local-up exited; see $state/demo.log and $state/logs" >&2
    exit 1
  fi
  echo
  echo "demo: up and submitted in $((SECONDS - start))s. Follow it with"
  echo "    tail -f $state/demo.log"
  echo "and stop it with"
  echo "    make demo-down"
}

down() {
  local pid="" sid=""
  [ -f "$state/local-up.pid" ] && pid=$(cat "$state/local-up.pid")
  # setsid made local-up the leader of a new session: its pid is the id.
  sid=$pid
  if alive "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 60); do alive "$pid" || break; sleep 0.5; done
    alive "$pid" && kill -KILL "$pid"
  fi
  # Whatever it started that is still there (it was killed, say): the
  # processes it recorded, and the members of its session (etcd and
  # kube-apiserver are not in the pids file).
  local left=()
  if [ -f "$state/pids" ]; then
    while read -r _ p; do alive "$p" && left+=("$p"); done <"$state/pids"
  fi
  if [ -n "$sid" ]; then
    while read -r p; do [ -n "$p" ] && left+=("$p"); done < <(ps -o pid= -s "$sid" 2>/dev/null || true)
  fi
  for p in "${left[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${left[@]}"; do
    for _ in $(seq 20); do alive "$p" || break; sleep 0.5; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$state"
  echo "demo: stopped; $state removed"
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Prints the resident memory of gantry-device-plugin running on each NVML
# fixture (no kubelet, no API server: discovery, health monitor, plugin
# server and metrics only) after it has settled. Needs `make build`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/bin/gantry-device-plugin
[ -x "$bin" ] || { echo "run 'make build' first" >&2; exit 1; }
settle=${SETTLE_SECONDS:-5}

printf '%-14s %10s %10s\n' fixture "VmRSS" "VmHWM"
for fixture in dgx-a100 dgx-h100 pcie-2island pcie-4 l4-1; do
  dir=$(mktemp -d)
  "$bin" --nvml="fixture:$fixture" --publish-nodegpu=false --kubelet-socket-dir="$dir" \
    --metrics-bind-address= --health-check-interval=1s >"$dir/log" 2>&1 &
  pid=$!
  sleep "$settle"
  rss=$(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ {print $2 " kB"}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
  printf '%-14s %10s %10s\n' "$fixture" "$rss" "$hwm"
done
